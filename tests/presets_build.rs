//! build.rs turns data/presets.toml into static data; a mistake in the file fails the
//! build with `data/presets.toml:line:column:` and what to write instead.

#[allow(dead_code)]
#[path = "../build/presets.rs"]
mod presets;

#[test]
fn the_shipped_presets_generate() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/presets.toml")).unwrap();
    let code = presets::emit(&text).unwrap();
    assert!(code.contains("Preset { id: \"glm\", "), "{code}");
}

#[test]
fn mistakes_in_the_preset_file_are_located() {
    let cases = [
        (
            "updated = \"x\"\n[presets.a]\nnmae = \"A\"\n",
            "3:1: unknown key `nmae` in preset `a`; did you mean `name`?",
        ),
        (
            "[presets.a]\nauth = \"berer\"\n",
            "2:8: unknown auth `berer`; expected `bearer`, `x-api-key` or `none`",
        ),
        ("[presets.a]\nkey_optional = \"yes\"\n", "2:16: `key_optional` must be true or false"),
        ("[presets.a.models]\nopsu = \"m\"\n", "2:1: unknown key `opsu` in [models]; did you mean `opus`?"),
        ("[presets.A]\n", "1:1: preset id `A` may use only a-z"),
        ("[refused.x]\nuse = \"y\"\n", "refused `x` needs `why`"),
        ("[[openai_urls]]\nuse = \"y\"\n", "[[openai_urls]] needs `url`"),
        ("updated = \n", "1:11: invalid TOML"),
        ("updated = \"x\"\n", "1:1: missing `presets`"),
        ("[presetz.a]\n", "1:2: unknown key `presetz` at the top level; did you mean `presets`?"),
    ];
    for (text, expected) in cases {
        let e = presets::emit(text).unwrap_err();
        assert!(e.starts_with("data/presets.toml:"), "{e}");
        assert!(e.contains(expected), "{text:?}: {e}");
    }
}
