//! `crossdock partners check`: every problem of every profile, as `file:line: message`.

use crate::support::{run, stderr, stdout};

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn the_shipped_examples_are_valid() {
    let output = run(&["partners", "check", "partners"], None);
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stderr(&output).contains("2 profile(s) OK"));
}

#[test]
fn problems_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let inline_secret = write(
        dir.path(),
        "leaky.toml",
        "id = \"leaky\"\n\n[x12]\ninterchange_id = \"ZZ:LEAKY\"\n\n[webhook]\nsecret = \"hunter2-not-a-reference\"\n",
    );
    let typo =
        write(dir.path(), "typo.toml", "id = \"typo\"\n[x12]\ninterchange_id = \"ZZ:TYPO\"\ncolour = \"blue\"\n");
    let bad_values = write(
        dir.path(),
        "bad-values.toml",
        "id = \"bad-values\"\n[x12]\ninterchange_id = \"ACMESUPPLY\"\nversion = \"003050\"\nacknowledgment = \"998\"\n\
         [documents]\nreceive = [\"850\", \"810\"]\nsend_via = \"as2\"\n[erp]\nheaders = { Authorization = \"Bearer abc\" }\n",
    );
    let wrong_name =
        write(dir.path(), "misnamed.toml", "id = \"other-name\"\n[edifact]\ninterchange_id = \"5412345000013:14\"\n");
    let bad_as2 = write(
        dir.path(),
        "bad-as2.toml",
        "id = \"bad-as2\"\n[x12]\ninterchange_id = \"ZZ:BADAS2\"\n[as2]\nas2_id = \"BADAS2\"\ncertificate = \"none.pem\"\n\
         sign_padding = \"rsa\"\nencrypt_padding = \"pss\"\n",
    );
    let output = run(&["partners", "check", &dir.path().display().to_string()], None);
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    let expected = [
        format!("{bad_values}:3: x12.interchange_id must be QUALIFIER:ID, a 2-character ISA05 qualifier and an id of up to 15 characters (ZZ:ACMESUPPLY), not \"ACMESUPPLY\""),
        format!("{bad_values}:4: x12.version must be one of 004010, 005010, not \"003050\""),
        format!("{bad_values}:5: x12.acknowledgment must be one of 997, 999, none, not \"998\""),
        format!("{bad_values}:7: documents.receive must be one of 850, 855, 856, ORDERS, ORDRSP, DESADV, not \"810\""),
        format!("{bad_values}:8: documents.send_via = \"as2\" needs an [as2] section"),
        format!("{bad_values}:10: erp.headers.Authorization carries a credential: reference it as env:NAME or file:PATH"),
        format!("{inline_secret}:7: webhook.secret: \"hun…\" is not a secret reference: write env:NAME or file:PATH, never the secret itself"),
        format!("{wrong_name}:1: id \"other-name\" must match the file name (misnamed.toml)"),
        format!("{bad_as2}:7: as2.sign_padding must be one of pkcs1, pss, not \"rsa\""),
        format!("{bad_as2}:8: as2.encrypt_padding must be one of pkcs1, oaep, not \"pss\""),
    ];
    for line in &expected {
        assert!(lines.contains(line), "missing: {line}\ngot:\n{}", lines.join("\n"));
    }
    // The unknown key comes from serde, located at its line.
    assert!(lines.iter().any(|l| l.starts_with(&format!("{typo}:4: unknown field `colour`"))), "{}", lines.join("\n"));
    // The secret's value itself is never printed.
    assert!(!stdout(&output).contains("hunter2"));
}

#[test]
fn two_profiles_claiming_one_sender_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", "id = \"a\"\n[x12]\ninterchange_id = \"ZZ:SAME\"\n");
    let b = write(dir.path(), "b.toml", "id = \"b\"\n[x12]\ninterchange_id = \"ZZ:SAME\"\n");
    let output = run(&["partners", "check", &dir.path().display().to_string()], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(&format!("{b}:1: profile b identifies the same partner as a")),
        "{}",
        stdout(&output)
    );
}

#[test]
fn one_file_can_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(dir.path(), "fine.toml", "id = \"fine\"\n[edifact]\ninterchange_id = \"5412345000013:14\"\n");
    let output = run(&["partners", "check", &ok], None);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}
