//! A file's parsed records, kept in a temporary file between parsing and
//! storing: an import reads (and inflates) the whole file before it opens
//! its transaction, so that no other writer waits on parsing, and memory
//! does not grow with the file. The file is removed when the spool drops.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Batches of records read back from a spool.
pub type Batches<T> = Box<dyn Iterator<Item = Result<Vec<T>>> + Send>;

pub struct Spool<T> {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    pub len: u64,
    _records: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned + Send + 'static> Spool<T> {
    pub fn new() -> Result<Spool<T>> {
        let name = format!("undercurrent-import-{}-{}.ndjson", std::process::id(), super::secrets::random_token());
        let path = std::env::temp_dir().join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating the import spool {}", path.display()))?;
        Ok(Spool { path, writer: Some(BufWriter::with_capacity(1 << 20, file)), len: 0, _records: PhantomData })
    }

    pub fn push(&mut self, record: &T) -> Result<()> {
        let w = self.writer.as_mut().context("the spool is closed")?;
        serde_json::to_writer(&mut *w, record).context("writing the import spool")?;
        w.write_all(b"\n").context("writing the import spool")?;
        self.len += 1;
        Ok(())
    }

    /// Closes the writing side; the records can then be read back.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.flush().context("writing the import spool")?;
        }
        Ok(())
    }

    /// Reads the records back in batches of at most `size`.
    pub fn batches(&self, size: usize) -> Result<Batches<T>> {
        let file = File::open(&self.path).context("reading the import spool")?;
        let mut lines = BufReader::with_capacity(1 << 20, file).lines();
        Ok(Box::new(std::iter::from_fn(move || {
            let mut batch = Vec::with_capacity(size);
            for line in lines.by_ref().take(size) {
                let record = line
                    .context("reading the import spool")
                    .and_then(|l| serde_json::from_str(&l).context("reading the import spool"));
                match record {
                    Ok(r) => batch.push(r),
                    Err(e) => return Some(Err(e)),
                }
            }
            (!batch.is_empty()).then_some(Ok(batch))
        })))
    }
}

impl<T> Drop for Spool<T> {
    fn drop(&mut self) {
        self.writer.take();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_and_the_file_goes() {
        let mut spool: Spool<(u32, String)> = Spool::new().unwrap();
        for i in 0..25 {
            spool.push(&(i, format!("r{i}\n,\""))).unwrap();
        }
        spool.finish().unwrap();
        let batches: Vec<Vec<(u32, String)>> = spool.batches(10).unwrap().map(Result::unwrap).collect();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
        assert_eq!(batches[2][4], (24, "r24\n,\"".to_string()));
        let path = spool.path.clone();
        assert!(path.exists());
        drop(spool);
        assert!(!path.exists());
    }
}
