//! One outbound message: the ERP's canonical JSON rendered as the partner's EDI, with control
//! numbers from the store. Sending it over the partner's transport is the transports' job.

use crate::canonical::CanonicalDocument;
use crate::config::Partners;
use crate::metrics as m;
use crate::store::{MessageState, Pending, Processed, Store};
use crate::translate::render::envelope::Stamp;
use crate::translate::render::interchange::{Groups, InterchangeRenderer};

pub fn process_outbound(pending: &Pending, partners: &Partners, store: &dyn Store) -> Processed {
    let mut out = Processed::of(pending, MessageState::Failed);
    match render(pending, partners, store, &mut out) {
        Ok(()) => {
            out.state = MessageState::Rendered;
            out.detail = "rendered; waiting for the partner's transport".into();
        }
        Err(problems) => {
            let partner = out.partner.clone().unwrap_or_else(|| "unknown".into());
            metrics::counter!(m::MESSAGES_FAILED, "partner" => partner, "stage" => "render", "reason" => "invalid_document")
                .increment(1);
            out.errors = problems;
            out.detail = "refused: the document cannot be rendered, see errors".into();
        }
    }
    out
}

fn render(pending: &Pending, partners: &Partners, store: &dyn Store, out: &mut Processed) -> Result<(), Vec<String>> {
    let document: CanonicalDocument =
        serde_json::from_slice(&pending.raw).map_err(|e| vec![format!("not a canonical document: {e}")])?;
    let partner_id = pending.partner.clone().or(document.partner.clone()).ok_or_else(|| {
        vec!["the document names no partner: set \"partner\" to the profile id it goes to".to_owned()]
    })?;
    let partner = partners.get(&partner_id).ok_or_else(|| vec![format!("no partner profile {partner_id:?}")])?;
    out.partner = Some(partner.id.clone());
    let renderer = InterchangeRenderer::new(partner).map_err(|e| vec![e])?;
    let kind = document.kind();
    out.document_type = Some(match renderer.standard() {
        crate::canonical::Standard::X12 => kind.x12_transaction_set().to_owned(),
        crate::canonical::Standard::Edifact => kind.edifact_message().to_owned(),
    });
    out.standard = Some(format!("{:?}", renderer.standard()).to_lowercase());
    let numbers = store.reserve(&partner.id, 1, 1, 1).map_err(|e| vec![e.to_string()])?;
    let set = renderer.transaction_set(document, numbers.transaction_set)?;
    let mut groups = Groups::default();
    groups.push(set);
    let assembled =
        renderer.assemble(numbers.interchange, numbers.group, &groups, &Stamp::now()).map_err(|e| vec![e])?;
    out.interchange_control_number = Some(format!("{:09}", numbers.interchange));
    out.group_control_number = Some(numbers.group.to_string());
    out.rendered = Some(assembled.to_vec());
    Ok(())
}
