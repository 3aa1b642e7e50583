//! Just enough of tar (ustar, with GNU long names) to read the file sets the client packs.

use std::io::Read;

const BLOCK: usize = 512;
/// Longest name taken (GNU long-name entries are read into memory).
const MAX_NAME: u64 = 4096;

fn octal(field: &[u8]) -> Result<u64, String> {
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(t, 8).map_err(|_| format!("a header number {t:?} is not octal"))
}

fn text(field: &[u8]) -> Result<String, String> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).map_err(|_| "a name is not UTF-8".to_owned())
}

fn skip(r: &mut impl Read, n: u64) -> Result<(), String> {
    let copied = std::io::copy(&mut r.take(n), &mut std::io::sink()).map_err(|e| e.to_string())?;
    if copied < n {
        return Err("the archive ends inside an entry".into());
    }
    Ok(())
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// Calls `f(name, size, mtime_ms, content)` for each regular file of the archive, in order.
pub(super) fn each_file(
    mut r: impl Read,
    mut f: impl FnMut(&str, u64, i64, &mut dyn Read) -> Result<(), String>,
) -> Result<(), String> {
    let mut long_name: Option<String> = None;
    loop {
        let mut h = [0u8; BLOCK];
        let mut got = 0;
        while got < BLOCK {
            match r.read(&mut h[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        match got {
            0 => return Ok(()),
            BLOCK => {}
            _ => return Err("the archive ends inside a header".into()),
        }
        if h.iter().all(|&b| b == 0) {
            return Ok(());
        }
        let size = octal(&h[124..136])?;
        let mtime = octal(&h[136..148])?;
        let kind = h[156];
        match kind {
            b'L' => {
                if size > MAX_NAME {
                    return Err(format!("a name longer than {MAX_NAME} bytes"));
                }
                let mut name = vec![0u8; size as usize];
                r.read_exact(&mut name).map_err(|e| e.to_string())?;
                skip(&mut r, padding(size))?;
                long_name = Some(text(&name)?);
            }
            b'0' | 0 | b'7' => {
                let name = match long_name.take() {
                    Some(n) => n,
                    None => {
                        let prefix = text(&h[345..500])?;
                        let name = text(&h[0..100])?;
                        if prefix.is_empty() {
                            name
                        } else {
                            format!("{prefix}/{name}")
                        }
                    }
                };
                let name = name.trim_start_matches("./").to_owned();
                let mut content = (&mut r).take(size);
                f(
                    &name,
                    size,
                    (mtime as i64).saturating_mul(1000),
                    &mut content,
                )?;
                let left = content.limit();
                skip(&mut r, left + padding(size))?;
            }
            _ => {
                long_name = None;
                skip(&mut r, size + padding(size))?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn header(name: &str, size: usize, kind: u8) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let s = format!("{size:011o}\0");
        h[124..136].copy_from_slice(s.as_bytes());
        h[136..148].copy_from_slice(b"00000000012\0");
        h[156] = kind;
        h
    }

    #[test]
    fn files_come_out_and_directories_do_not() {
        let mut t = header("dir/", 0, b'5');
        t.extend(header("dir/a.txt", 3, b'0'));
        t.extend(b"abc");
        t.extend(vec![0u8; 509]);
        t.extend(vec![0u8; 1024]);
        let mut seen = Vec::new();
        super::each_file(&t[..], |name, size, mtime, r| {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            seen.push((name.to_owned(), size, mtime, s));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![("dir/a.txt".into(), 3, 10_000, "abc".into())]);
        // Cut short, in a header or in a file: an error, not a panic.
        assert!(super::each_file(&t[..700], |_, _, _, _| Ok(())).is_err());
        assert!(super::each_file(&t[..1025], |_, _, _, _| Ok(())).is_err());
    }
}
