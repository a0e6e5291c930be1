//! Writes the binary targets' seeds (see `hdb_fuzz::seeds`) into `fuzz/corpus/<target>/`
//! as `seed-<n>`, replacing older seeds and leaving the fuzzers' own finds alone.
#![allow(clippy::unwrap_used)]

use std::path::Path;

/// Makes one target's seeds.
type Seeds = fn() -> Vec<Vec<u8>>;

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let targets: [(&str, Seeds); 3] = [
        ("wal", hdb_fuzz::seeds::wal),
        ("page", hdb_fuzz::seeds::page),
        ("d_log", hdb_fuzz::seeds::d_log),
    ];
    for (target, seeds) in targets {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let seeds = seeds();
        for (n, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n:03}")), seed).unwrap();
        }
        println!("{target}: {} seeds in {}", seeds.len(), dir.display());
    }
}
