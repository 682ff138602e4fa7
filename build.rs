//! Build-time data: see build/presets.rs.

#[path = "build/presets.rs"]
mod presets;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    presets::generate(&manifest_dir, &out_dir);
}
