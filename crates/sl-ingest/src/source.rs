//! Opening input files: decompression chosen by content (gzip, zstd with a long
//! window) and the SHA-256 that identifies a file in the datasets registry.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// zstd frames written with `--long=27` need a 128 MiB window; allow that much.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Compression detected from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detects compression by magic number (not by file name, which may lie).
pub fn detect(path: &Path) -> std::io::Result<Compression> {
    let mut magic = [0u8; 4];
    let mut f = File::open(path)?;
    let n = f.read(&mut magic)?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    })
}

/// Opens a file and undoes its compression.
pub fn open_decompressed(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let compression = detect(path)?;
    let file = BufReader::with_capacity(1 << 20, File::open(path)?);
    Ok(match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        )),
        Compression::Zstd => {
            let mut dec = zstd::stream::read::Decoder::with_buffer(file)?;
            dec.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(BufReader::with_capacity(1 << 20, dec))
        }
    })
}

/// SHA-256 of a file's bytes as stored (compressed), in lower-case hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// SHA-256 of bytes in hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_gzip_and_long_window_zstd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = b"a,b\n1,2\n".repeat(1000);
        let plain = dir.path().join("x.csv");
        std::fs::write(&plain, &text).expect("write");
        let gz = dir.path().join("x.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).expect("create"),
            flate2::Compression::default(),
        );
        enc.write_all(&text).expect("gz");
        enc.finish().expect("gz finish");
        let zst = dir.path().join("x.csv.zst");
        let mut z = zstd::stream::write::Encoder::new(File::create(&zst).expect("create"), 19)
            .expect("zstd");
        z.long_distance_matching(true).expect("ldm");
        z.window_log(27).expect("window");
        z.write_all(&text).expect("zstd write");
        z.finish().expect("zstd finish");
        for (p, c) in [
            (&plain, Compression::None),
            (&gz, Compression::Gzip),
            (&zst, Compression::Zstd),
        ] {
            assert_eq!(detect(p).expect("detect"), c);
            let mut out = Vec::new();
            open_decompressed(p)
                .expect("open")
                .read_to_end(&mut out)
                .expect("read");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
