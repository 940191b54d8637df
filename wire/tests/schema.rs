//! `docs/summary.schema.json` is the JSON Schema generated from the `Summary` types; this test
//! fails when the types change and the committed file does not. To refresh it:
//! `TICKBENCH_UPDATE_SCHEMA=1 cargo test -p tickbench-wire --test schema`.

use tickbench_wire::Summary;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/summary.schema.json");

fn generated() -> String {
    let schema = schemars::schema_for!(Summary);
    serde_json::to_string_pretty(&schema).unwrap() + "\n"
}

#[test]
fn committed_schema_is_current() {
    let want = generated();
    if std::env::var_os("TICKBENCH_UPDATE_SCHEMA").is_some() {
        std::fs::write(PATH, &want).unwrap();
        eprintln!("wrote {PATH}");
        return;
    }
    let have = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        have == want,
        "docs/summary.schema.json is stale: run \
         `TICKBENCH_UPDATE_SCHEMA=1 cargo test -p tickbench-wire --test schema` and commit it"
    );
}

#[test]
fn schema_names_every_field_and_its_units() {
    let schema: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    let props = &schema["properties"];
    for f in ["schema", "complete", "transports", "hgrm_unit", "host"] {
        assert!(props.get(f).is_some(), "{f}: {props}");
    }
    let text = generated();
    assert!(
        text.contains("Server process CPU seconds"),
        "doc comments kept"
    );
    assert!(text.contains("\"ms\""), "hgrm unit values listed");
}
