//! `undercurrent backup FILE` and `undercurrent restore FILE`. SQLite: a
//! consistent online copy (`VACUUM INTO`, safe while the server runs), and
//! a restore that checks the file, swaps it in atomically and upgrades it
//! with the current migrations. PostgreSQL has `pg_dump` and `pg_restore`
//! for this; the commands say so.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::storage::Db;

/// The file of a `sqlite://` URL.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    Some(path.split('?').next().unwrap_or(path))
}

const PG_HINT: &str = "PostgreSQL databases are backed up with its own tools: \
    `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"`, restored with \
    `pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" FILE`";

pub async fn backup(url: &str, file: &Path) -> Result<ExitCode> {
    if sqlite_path(url).is_none() {
        eprintln!("{PG_HINT}");
        return Ok(ExitCode::from(2));
    }
    if file.exists() {
        eprintln!("error: {} exists already; choose a new file name", file.display());
        return Ok(ExitCode::FAILURE);
    }
    let db = Db::connect(url).await?;
    let target = file.to_str().context("the backup file name must be valid UTF-8")?;
    crate::storage::backup::write_copy(&db, target).await.context("writing the backup")?;
    db.close().await;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("Backed up to {} ({} KiB).", file.display(), size / 1024);
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(url: &str, file: &Path) -> Result<ExitCode> {
    let Some(path) = sqlite_path(url) else {
        eprintln!("{PG_HINT}");
        return Ok(ExitCode::from(2));
    };
    // The file must be an Undercurrent database: open it read-only first.
    let check = format!("sqlite://{}?mode=ro", file.display());
    let valid = match Db::connect_without_migrating(&check).await {
        Ok(db @ Db::Sqlite(_)) => {
            let ok = crate::storage::backup::is_undercurrent(&db).await;
            db.close().await;
            ok
        }
        _ => false,
    };
    if !valid {
        eprintln!("error: {} is not an Undercurrent SQLite backup; nothing was changed", file.display());
        return Ok(ExitCode::FAILURE);
    }
    // Copy beside the database, then rename over it: either the old or the
    // new database is there, never half of one. Stop `serve` first.
    let target = Path::new(path);
    let staging = target.with_extension("restoring");
    std::fs::copy(file, &staging).with_context(|| format!("copying {} beside the database", file.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = format!("{path}{suffix}");
        if Path::new(&side).exists() {
            std::fs::remove_file(&side).with_context(|| format!("removing {side}"))?;
        }
    }
    std::fs::rename(&staging, target).with_context(|| format!("replacing {path}"))?;
    // An older backup is upgraded to the current schema.
    let db = Db::connect(url).await?;
    db.close().await;
    println!("Restored {} from {}. Start the server again.", path, file.display());
    Ok(ExitCode::SUCCESS)
}
