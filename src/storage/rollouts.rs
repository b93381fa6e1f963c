//! Department rollout dates set by hand (the default comes from the data).

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use sqlx::Row;

use super::Db;
use crate::on_db;

pub async fn all(db: &Db) -> Result<BTreeMap<String, NaiveDate>> {
    let rows: Vec<(String, String)> = on_db!(db, pool => {
        sqlx::query("SELECT department, rollout_date FROM department_rollouts").fetch_all(pool).await?.into_iter()
            .map(|r| Ok((r.try_get("department")?, r.try_get("rollout_date")?))).collect::<Result<Vec<_>>>()?
    });
    Ok(rows.into_iter().filter_map(|(d, date)| Some((d, NaiveDate::parse_from_str(&date, "%Y-%m-%d").ok()?))).collect())
}

pub async fn set(db: &Db, department: &str, date: Option<NaiveDate>) -> Result<()> {
    match date {
        Some(d) => {
            let sql = "INSERT INTO department_rollouts (department, rollout_date) VALUES ($1, $2) \
                       ON CONFLICT (department) DO UPDATE SET rollout_date = excluded.rollout_date";
            on_db!(db, pool => sqlx::query(sql).bind(department).bind(d.to_string()).execute(pool).await.map(drop)?);
        }
        None => {
            on_db!(db, pool => sqlx::query("DELETE FROM department_rollouts WHERE department = $1").bind(department).execute(pool).await.map(drop)?);
        }
    }
    Ok(())
}
