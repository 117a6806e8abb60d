"""Reads an EDIFACT file with pydifact (an implementation nobody here wrote) and prints, as
JSON, each message's type and segments, so a test can compare them with what Crossdock wrote."""
import json
import sys
import warnings

from pydifact.segmentcollection import Interchange

warnings.simplefilter("ignore")

interchange = Interchange.from_str(open(sys.argv[1], encoding="utf-8").read())
out = {
    "sender": interchange.sender,
    "recipient": interchange.recipient,
    "control_reference": interchange.control_reference,
    "messages": [],
}
for message in interchange.get_messages():
    out["messages"].append({
        "type": message.type,
        "reference": message.reference_number,
        "segments": [[segment.tag] + segment.elements for segment in message.segments],
    })
print(json.dumps(out))
