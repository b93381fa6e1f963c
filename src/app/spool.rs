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
    /// The key records are sorted by when read back, with the last key
    /// pushed and whether every key so far came in order.
    key: Option<fn(&T) -> i64>,
    last_key: i64,
    in_order: bool,
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
        Ok(Spool {
            path,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            len: 0,
            key: None,
            last_key: i64::MIN,
            in_order: true,
            _records: PhantomData,
        })
    }

    /// A spool that notes, as records come, whether they are already in
    /// `key` order (then [`Spool::sorted_batches`] by that key sorts nothing).
    pub fn keyed(key: fn(&T) -> i64) -> Result<Spool<T>> {
        let mut spool = Spool::new()?;
        spool.key = Some(key);
        Ok(spool)
    }

    pub fn push(&mut self, record: &T) -> Result<()> {
        if let Some(key) = self.key {
            let k = key(record);
            self.in_order &= k >= self.last_key;
            self.last_key = k;
        }
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

impl<T: Serialize + DeserializeOwned + Send + 'static> Spool<T> {
    /// Reads the records back in batches of at most `size`, ordered by the
    /// spool's key (records with equal keys keep their order in the file;
    /// a spool without a key, or already in order, is read as written). At most
    /// `run` records are held in memory: a longer spool is sorted in runs of
    /// `run` records, each kept in its own temporary file, and merged.
    pub fn sorted_batches(&self, size: usize, run: usize) -> Result<Batches<T>> {
        let Some(key) = self.key.filter(|_| !self.in_order) else { return self.batches(size) };
        let mut runs = Vec::new();
        let records = self.batches(run.max(1))?;
        for chunk in records {
            let mut chunk = chunk?;
            chunk.sort_by_key(key);
            if runs.is_empty() && self.len <= chunk.len() as u64 {
                // The whole spool fits in one run: no merge, no file.
                let mut chunk = chunk.into_iter();
                return Ok(Box::new(std::iter::from_fn(move || {
                    let batch: Vec<T> = chunk.by_ref().take(size).collect();
                    (!batch.is_empty()).then_some(Ok(batch))
                })));
            }
            let mut sorted: Spool<T> = Spool::keyed(key)?;
            for record in &chunk {
                sorted.push(record)?;
            }
            sorted.finish()?;
            runs.push(sorted);
        }
        let readers = runs.iter().map(|r| r.batches(1)).collect::<Result<Vec<_>>>()?;
        let pending = runs.iter().map(|_| None).collect();
        let mut merge = Merge { heads: std::collections::BinaryHeap::new(), pending, readers, key, _runs: runs };
        for run in 0..merge.readers.len() {
            merge.advance(run)?;
        }
        Ok(Box::new(std::iter::from_fn(move || {
            let mut batch = Vec::with_capacity(size);
            while batch.len() < size {
                match merge.next_record() {
                    Ok(Some(r)) => batch.push(r),
                    Ok(None) => break,
                    Err(e) => return Some(Err(e)),
                }
            }
            (!batch.is_empty()).then_some(Ok(batch))
        })))
    }
}

/// A k-way merge of sorted runs: the smallest key first, and among equal
/// keys the earlier run (earlier in the file) first.
struct Merge<T> {
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize)>>,
    /// Each run's next record, waiting for its turn.
    pending: Vec<Option<T>>,
    readers: Vec<Batches<T>>,
    key: fn(&T) -> i64,
    /// The runs' files, removed when the merge drops.
    _runs: Vec<Spool<T>>,
}

impl<T> Merge<T> {
    fn advance(&mut self, run: usize) -> Result<()> {
        let next = self.readers[run].next().transpose()?.and_then(|mut b| b.pop());
        if let Some(record) = next {
            self.heads.push(std::cmp::Reverse(((self.key)(&record), run)));
            self.pending[run] = Some(record);
        }
        Ok(())
    }

    fn next_record(&mut self) -> Result<Option<T>> {
        let Some(std::cmp::Reverse((_, run))) = self.heads.pop() else { return Ok(None) };
        let record = self.pending[run].take();
        self.advance(run)?;
        Ok(record)
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
    fn sorted_batches_order_by_key_keep_file_order_among_equals_and_merge_runs() {
        let records: Vec<(i64, u32)> = (0..1000u32).map(|i| ((i64::from(i) * 7919) % 97, i)).collect();
        let mut expected = records.clone();
        expected.sort_by_key(|r| r.0);
        for run in [1, 10, 64, 999, 1000, 5000] {
            let mut spool: Spool<(i64, u32)> = Spool::keyed(|r: &(i64, u32)| r.0).unwrap();
            for r in &records {
                spool.push(r).unwrap();
            }
            spool.finish().unwrap();
            assert!(!spool.in_order);
            let batches: Vec<Vec<(i64, u32)>> = spool.sorted_batches(128, run).unwrap().map(Result::unwrap).collect();
            assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 128), "run {run}");
            assert_eq!(batches.concat(), expected, "run {run}");
        }
        let empty: Spool<(i64, u32)> = {
            let mut s = Spool::keyed(|r: &(i64, u32)| r.0).unwrap();
            s.finish().unwrap();
            s
        };
        assert_eq!(empty.sorted_batches(10, 10).unwrap().count(), 0);
        // Already in order: read as written, nothing sorted.
        let mut ordered: Spool<(i64, u32)> = Spool::keyed(|r: &(i64, u32)| r.0).unwrap();
        for r in [(1, 0), (1, 1), (5, 2)] {
            ordered.push(&r).unwrap();
        }
        ordered.finish().unwrap();
        assert!(ordered.in_order);
        let back: Vec<(i64, u32)> =
            ordered.sorted_batches(2, 1).unwrap().map(Result::unwrap).collect::<Vec<_>>().concat();
        assert_eq!(back, vec![(1, 0), (1, 1), (5, 2)]);
    }

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
