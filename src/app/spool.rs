//! A file's parsed records, kept in a temporary file between parsing and
//! storing: an import reads (and inflates) the whole file before it opens
//! its transaction, so that no other writer waits on parsing, and memory
//! does not grow with the file. The file is removed when the spool drops.
//!
//! Records are stored length-prefixed, each in its own binary encoding
//! ([`SpoolRecord`]): an events spool is written once and read back twice
//! when it is sorted, and JSON cost a third of a Slack import.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

use anyhow::{Context, Result};

/// A record a spool can keep: written to bytes and read back from them.
pub trait SpoolRecord: Sized + Send + 'static {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(bytes: &[u8]) -> Result<Self>;
}

/// Records kept as JSON (small files: the aggregated exports).
#[macro_export]
macro_rules! spool_as_json {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::app::spool::SpoolRecord for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                // Serialising a plain data type to a Vec cannot fail.
                let _ = serde_json::to_writer(out, self);
            }
            fn decode(bytes: &[u8]) -> anyhow::Result<Self> {
                Ok(serde_json::from_slice(bytes)?)
            }
        }
    )*};
}

/// Helpers for binary encodings: little-endian integers and
/// length-prefixed strings.
pub mod codec {
    use anyhow::{Result, bail};

    pub fn put_i64(out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    /// An optional string: a marker byte, then the string.
    pub fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => {
                out.push(1);
                put_str(out, s);
            }
            None => out.push(0),
        }
    }

    pub fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if bytes.len() < n {
            bail!("a spooled record ends early");
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head)
    }

    pub fn get_i64(bytes: &mut &[u8]) -> Result<i64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(take(bytes, 8)?);
        Ok(i64::from_le_bytes(b))
    }

    pub fn get_u8(bytes: &mut &[u8]) -> Result<u8> {
        Ok(take(bytes, 1)?[0])
    }

    pub fn get_str(bytes: &mut &[u8]) -> Result<String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(take(bytes, 4)?);
        let n = u32::from_le_bytes(b) as usize;
        Ok(std::str::from_utf8(take(bytes, n)?)?.to_string())
    }

    pub fn get_opt_str(bytes: &mut &[u8]) -> Result<Option<String>> {
        match get_u8(bytes)? {
            0 => Ok(None),
            _ => get_str(bytes).map(Some),
        }
    }
}

/// Batches of records read back from a spool.
pub type Batches<T> = Box<dyn Iterator<Item = Result<Vec<T>>> + Send>;

/// Records read back one at a time.
type Records<T> = Box<dyn Iterator<Item = Result<T>> + Send>;

pub struct Spool<T> {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    /// One record's bytes, reused.
    scratch: Vec<u8>,
    pub len: u64,
    /// The key records are sorted by when read back, with the last key
    /// pushed and whether every key so far came in order.
    key: Option<fn(&T) -> i64>,
    last_key: i64,
    in_order: bool,
    /// A keyed spool's records not yet written: at most `run` of them,
    /// sorted and written to a run of their own when full. A spool that
    /// never fills one is never written at all.
    buffer: Vec<T>,
    run: usize,
    runs: Vec<Spool<T>>,
    _records: PhantomData<fn() -> T>,
}

impl<T: SpoolRecord> Spool<T> {
    pub fn new() -> Result<Spool<T>> {
        let name = format!("undercurrent-import-{}-{}.spool", std::process::id(), super::secrets::random_token());
        let path = std::env::temp_dir().join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating the import spool {}", path.display()))?;
        Ok(Spool {
            path,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
            scratch: Vec::new(),
            len: 0,
            key: None,
            last_key: i64::MIN,
            in_order: true,
            buffer: Vec::new(),
            run: 0,
            runs: Vec::new(),
            _records: PhantomData,
        })
    }

    /// A spool read back in `key` order ([`Spool::sorted_batches`]; records
    /// with equal keys keep their order). At most `run` records are held in
    /// memory: they are sorted as they come, in runs of `run` records, each
    /// written to its own temporary file, and merged when read back.
    pub fn keyed(key: fn(&T) -> i64, run: usize) -> Result<Spool<T>> {
        let mut spool = Spool::new()?;
        spool.key = Some(key);
        spool.run = run.max(1);
        Ok(spool)
    }

    pub fn push(&mut self, record: T) -> Result<()> {
        if let Some(key) = self.key {
            let k = key(&record);
            self.in_order &= k >= self.last_key;
            self.last_key = k;
            self.buffer.push(record);
            self.len += 1;
            if self.buffer.len() >= self.run {
                self.write_run()?;
            }
            return Ok(());
        }
        self.write(&record)?;
        self.len += 1;
        Ok(())
    }

    fn write(&mut self, record: &T) -> Result<()> {
        let w = self.writer.as_mut().context("the spool is closed")?;
        self.scratch.clear();
        record.encode(&mut self.scratch);
        let len = u32::try_from(self.scratch.len()).context("a record too large to spool")?;
        w.write_all(&len.to_le_bytes()).context("writing the import spool")?;
        w.write_all(&self.scratch).context("writing the import spool")
    }

    /// Sorts the buffered records and writes them to a run of their own.
    fn write_run(&mut self) -> Result<()> {
        let Some(key) = self.key else { return Ok(()) };
        let mut records = std::mem::take(&mut self.buffer);
        records.sort_by_key(key);
        let mut run: Spool<T> = Spool::new()?;
        for record in &records {
            run.write(record)?;
        }
        run.len = records.len() as u64;
        run.finish()?;
        self.runs.push(run);
        self.buffer = records;
        self.buffer.clear();
        Ok(())
    }

    /// Closes the writing side; the records can then be read back.
    pub fn finish(&mut self) -> Result<()> {
        if !self.runs.is_empty() && !self.buffer.is_empty() {
            self.write_run()?;
        }
        if let Some(key) = self.key {
            self.buffer.sort_by_key(key);
        }
        if let Some(mut w) = self.writer.take() {
            w.flush().context("writing the import spool")?;
        }
        Ok(())
    }

    /// Reads the records of the spool's own file back one by one.
    fn records(&self) -> Result<Records<T>> {
        let file = File::open(&self.path).context("reading the import spool")?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut left = self.len;
        let mut buf = Vec::new();
        Ok(Box::new(std::iter::from_fn(move || {
            (left > 0).then(|| {
                left -= 1;
                read_record(&mut reader, &mut buf)
            })
        })))
    }

    /// Reads an unkeyed spool's records back in batches of at most `size`.
    pub fn batches(&self, size: usize) -> Result<Batches<T>> {
        Ok(in_batches(self.records()?, size))
    }

    /// Reads a keyed spool's records back in batches of at most `size`, in
    /// key order (records with equal keys in the order they were pushed),
    /// after [`Spool::finish`]; an unkeyed one as written. The records are
    /// read back once.
    pub fn sorted_batches(&mut self, size: usize) -> Result<Batches<T>> {
        let Some(key) = self.key else { return self.batches(size) };
        let runs = std::mem::take(&mut self.runs);
        if runs.is_empty() {
            // Fewer records than a run: never written, already sorted.
            let mut records = std::mem::take(&mut self.buffer).into_iter();
            return Ok(Box::new(std::iter::from_fn(move || {
                let batch: Vec<T> = records.by_ref().take(size).collect();
                (!batch.is_empty()).then_some(Ok(batch))
            })));
        }
        let readers = runs.iter().map(|r| r.records()).collect::<Result<Vec<_>>>()?;
        if self.in_order {
            // The runs follow each other: read one after the other.
            let chained = KeepRuns { records: readers.into_iter().flatten(), _runs: runs };
            return Ok(in_batches(Box::new(chained), size));
        }
        let pending = runs.iter().map(|_| None).collect();
        let mut merge = Merge { heads: std::collections::BinaryHeap::new(), pending, readers, key, _runs: runs };
        for run in 0..merge.readers.len() {
            merge.advance(run)?;
        }
        Ok(in_batches(Box::new(std::iter::from_fn(move || merge.next_record().transpose())), size))
    }
}

/// Records read from runs, which live (their files kept) as long as it.
struct KeepRuns<I, T> {
    records: I,
    _runs: Vec<Spool<T>>,
}

impl<I: Iterator, T> Iterator for KeepRuns<I, T> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.records.next()
    }
}

/// Records in batches of at most `size`; stops after an error.
fn in_batches<T: Send + 'static>(mut records: Records<T>, size: usize) -> Batches<T> {
    let size = size.max(1);
    Box::new(std::iter::from_fn(move || {
        let mut batch = Vec::new();
        while batch.len() < size {
            match records.next() {
                Some(Ok(r)) => batch.push(r),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }))
}

/// One length-prefixed record, read through `buf`.
fn read_record<T: SpoolRecord>(reader: &mut impl Read, buf: &mut Vec<u8>) -> Result<T> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len).context("reading the import spool")?;
    buf.resize(u32::from_le_bytes(len) as usize, 0);
    reader.read_exact(buf).context("reading the import spool")?;
    let record = T::decode(buf).context("reading the import spool")?;
    Ok(record)
}

/// A k-way merge of sorted runs: the smallest key first, and among equal
/// keys the earlier run (earlier in the file) first.
struct Merge<T> {
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize)>>,
    /// Each run's next record, waiting for its turn.
    pending: Vec<Option<T>>,
    readers: Vec<Records<T>>,
    key: fn(&T) -> i64,
    /// The runs' files, removed when the merge drops.
    _runs: Vec<Spool<T>>,
}

impl<T> Merge<T> {
    fn advance(&mut self, run: usize) -> Result<()> {
        let next = self.readers[run].next().transpose()?;
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

    impl SpoolRecord for (i64, u32) {
        fn encode(&self, out: &mut Vec<u8>) {
            codec::put_i64(out, self.0);
            codec::put_i64(out, i64::from(self.1));
        }
        fn decode(mut bytes: &[u8]) -> Result<Self> {
            Ok((codec::get_i64(&mut bytes)?, u32::try_from(codec::get_i64(&mut bytes)?)?))
        }
    }

    impl SpoolRecord for (u32, String) {
        fn encode(&self, out: &mut Vec<u8>) {
            codec::put_i64(out, i64::from(self.0));
            codec::put_str(out, &self.1);
        }
        fn decode(mut bytes: &[u8]) -> Result<Self> {
            Ok((u32::try_from(codec::get_i64(&mut bytes)?)?, codec::get_str(&mut bytes)?))
        }
    }

    #[test]
    fn sorted_batches_order_by_key_keep_file_order_among_equals_and_merge_runs() {
        let records: Vec<(i64, u32)> = (0..1000u32).map(|i| ((i64::from(i) * 7919) % 97, i)).collect();
        let mut expected = records.clone();
        expected.sort_by_key(|r| r.0);
        for run in [1, 10, 64, 999, 1000, 5000] {
            let mut spool: Spool<(i64, u32)> = Spool::keyed(|r: &(i64, u32)| r.0, run).unwrap();
            for r in &records {
                spool.push(*r).unwrap();
            }
            spool.finish().unwrap();
            assert!(!spool.in_order);
            let batches: Vec<Vec<(i64, u32)>> = spool.sorted_batches(128).unwrap().map(Result::unwrap).collect();
            assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 128), "run {run}");
            assert_eq!(batches.concat(), expected, "run {run}");
        }
        let mut empty: Spool<(i64, u32)> = Spool::keyed(|r: &(i64, u32)| r.0, 10).unwrap();
        empty.finish().unwrap();
        assert_eq!(empty.sorted_batches(10).unwrap().count(), 0);
        // Already in order: the runs are read one after the other.
        for run in [1, 2, 10] {
            let mut ordered: Spool<(i64, u32)> = Spool::keyed(|r: &(i64, u32)| r.0, run).unwrap();
            for r in [(1, 0), (1, 1), (5, 2)] {
                ordered.push(r).unwrap();
            }
            ordered.finish().unwrap();
            assert!(ordered.in_order);
            let back: Vec<(i64, u32)> =
                ordered.sorted_batches(2).unwrap().map(Result::unwrap).collect::<Vec<_>>().concat();
            assert_eq!(back, vec![(1, 0), (1, 1), (5, 2)], "run {run}");
        }
    }

    #[test]
    fn records_come_back_in_order_and_the_file_goes() {
        let mut spool: Spool<(u32, String)> = Spool::new().unwrap();
        for i in 0..25 {
            spool.push((i, format!("r{i}\n,\""))).unwrap();
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
