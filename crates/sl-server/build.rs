//! Embeds the built web UI (`web/dist`, made by `make ui`) into the binary: every file
//! becomes an `include_bytes!` entry of `UI_ASSETS` in `$OUT_DIR/ui_assets.rs`. When
//! the UI has not been built the table is empty and the server says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let dist = manifest.join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut found = Vec::new();
    if dist.join("index.html").is_file() {
        files(&dist, &mut found);
    }
    let mut code = String::from(
        "/// The built web UI: (path under `/`, bytes).\npub static UI_ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for path in &found {
        let rel = path
            .strip_prefix(&dist)
            .expect("under dist")
            .to_string_lossy()
            .replace('\\', "/");
        let abs = path.canonicalize().expect("canonical path");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("ui_assets.rs");
    std::fs::write(out, code).expect("write ui_assets.rs");
}
