use super::*;

/// The path at the first byte of `marker` in `doc`.
fn path_at(doc: &str, marker: &str) -> Option<String> {
    let at = doc.find(marker).expect("marker in doc");
    let mut t = JsonLocator::new();
    t.advance(&doc.as_bytes()[..at]);
    t.path()
}

#[test]
fn paths_of_values_in_objects_and_arrays() {
    let doc = r#"{"model":"m","messages":[{"role":"user","content":"HERE1"},{"content":[{"type":"text","text":"xx HERE2"}]}],"data":{"value":"HERE3","n":12345,"x-api-key":"HERE4"}, "weird key's":"HERE5", "0lead":"HERE6"}"#;
    assert_eq!(
        path_at(doc, "HERE1").as_deref(),
        Some("$.messages[0].content")
    );
    assert_eq!(
        path_at(doc, "HERE2").as_deref(),
        Some("$.messages[1].content[0].text")
    );
    assert_eq!(path_at(doc, "HERE3").as_deref(), Some("$.data.value"));
    assert_eq!(path_at(doc, "12345").as_deref(), Some("$.data.n"));
    assert_eq!(path_at(doc, "HERE4").as_deref(), Some("$.data.x-api-key"));
    assert_eq!(path_at(doc, "HERE5").as_deref(), Some(r"$['weird key\'s']"));
    assert_eq!(path_at(doc, "HERE6").as_deref(), Some("$['0lead']"));
    // Inside a key, the path is the object's.
    assert_eq!(path_at(doc, "alue").as_deref(), Some("$.data"));
    assert_eq!(path_at(doc, r#""model""#).as_deref(), Some("$"));
}

#[test]
fn escapes_and_braces_inside_strings_do_not_confuse_it() {
    let doc = r#"{"a":"q\"}]{[,:\\","b":["x,y","z]"],"c":{"d\"e":"HERE"}}"#;
    assert_eq!(path_at(doc, "HERE").as_deref(), Some(r#"$.c['d"e']"#));
}

#[test]
fn feeding_in_any_split_gives_the_same_path() {
    let doc = r#"{"k":[1,{"deep":{"list":["a","b",{"s":"q\\\"x"}]}}],"v":"HERE"}"#;
    let at = doc.find("HERE").expect("marker");
    let whole = path_at(doc, "HERE");
    assert_eq!(whole.as_deref(), Some("$.v"));
    for cut in 0..at {
        for cut2 in cut..at {
            let mut t = JsonLocator::new();
            t.advance(&doc.as_bytes()[..cut]);
            t.advance(&doc.as_bytes()[cut..cut2]);
            t.advance(&doc.as_bytes()[cut2..at]);
            assert_eq!(t.path(), whole, "split at {cut}/{cut2}");
        }
    }
}

#[test]
fn not_json_or_malformed_or_too_deep_turns_it_off() {
    for doc in [
        "plain text with a key",
        "<html>{\"a\":1}</html>",
        r#"{"a":1}}"#,
        r#"{"a" "b"}"#,
        r#"[1,2]]"#,
        r#"{"a":1}, 5"#,
    ] {
        let mut t = JsonLocator::new();
        t.advance(doc.as_bytes());
        t.advance(b" ");
        assert!(!t.is_tracking() || t.path().is_none(), "{doc}");
        assert_eq!(t.path(), None, "{doc}");
    }
    let deep = "[".repeat(MAX_DEPTH + 1);
    let mut t = JsonLocator::new();
    t.advance(deep.as_bytes());
    assert_eq!(t.path(), None);
    // Newline-delimited documents stay tracked.
    let ndjson = "{\"a\":1}\n{\"b\":\"HERE\"}";
    assert_eq!(path_at(ndjson, "HERE").as_deref(), Some("$.b"));
}

#[test]
fn credential_looking_and_long_keys_never_reach_the_path() {
    let secret = crate::system::expand_template("AKIA«b32:16»").text;
    let doc = format!(r#"{{"{secret}":{{"inner":"HERE"}}}}"#);
    let path = path_at(&doc, "HERE").expect("tracking");
    assert!(!path.contains(&secret[4..12]), "{path}");
    assert!(path.contains("[MASKED]"), "{path}");
    // A credential crossing the cut is masked whole, not judged on its head.
    let token = crate::system::expand_template("ghp_«alnum:36»").text;
    let doc = format!(r#"{{"{}.{token}":"HERE"}}"#, "x".repeat(39));
    let path = path_at(&doc, "HERE").expect("tracking");
    assert!(!path.contains(&token[4..8]), "{path}");
    let long = "a long key ".repeat(80);
    let doc = format!(r#"{{"{long}":"HERE"}}"#);
    let path = path_at(&doc, "HERE").expect("tracking");
    assert!(path.len() < 80, "{path}");
    assert!(path.contains('…'), "{path}");
}
