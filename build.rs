//! Embeds the OpenAPI document minified: the source stays readable, the wasm stays small.

use std::{env, fs, path::Path};

fn main() {
    let source = "src/api/openapi.json";
    println!("cargo:rerun-if-changed={source}");
    let text = fs::read_to_string(source).expect("read the OpenAPI document");
    let document: serde_json::Value = serde_json::from_str(&text).expect("the OpenAPI document is valid JSON");
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("openapi.min.json");
    fs::write(out, document.to_string()).expect("write the minified OpenAPI document");
}
