//! A person's history with the research team: the studies that drew,
//! invited, booked, interviewed, surveyed or held them out, and an opt-out.
//! Facts only: never survey answers or interview notes.

use anyhow::Result;

use super::Db;
use crate::on_db;

/// One row of the history, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    /// `invitation`, `booking`, `survey`, `holdout` or `opt_out`.
    pub what: String,
    pub at: Option<i64>,
    pub study_id: Option<i64>,
    pub study: Option<String>,
    /// The round's number (invitations, holdouts).
    pub round: Option<i64>,
    /// The invitation's or booking's state; for a survey `answered` or
    /// `sent`.
    pub state: Option<String>,
    /// A booking that was not cancelled: its interview page
    /// (`/interviews/{booking}`).
    pub booking_id: Option<i64>,
    /// A survey's title.
    pub detail: Option<String>,
}

/// Everything the research team did with a person, oldest first.
pub async fn of_person(db: &Db, person_id: i64) -> Result<Vec<HistoryRow>> {
    let sql = "\
        SELECT 'invitation' AS what, COALESCE(i.invited_at, i.created_at) AS at, s.id AS study_id, s.title AS study, \
               r.number AS round, i.status AS state, CAST(NULL AS BIGINT) AS booking_id, CAST(NULL AS TEXT) AS detail \
        FROM invitations i JOIN studies s ON s.id = i.study_id JOIN rounds r ON r.id = i.round_id \
        WHERE i.person_id = $1 \
        UNION ALL \
        SELECT 'booking', b.starts_at, s.id, s.title, CAST(NULL AS BIGINT), b.status, \
               CASE WHEN b.status = 'cancelled' THEN NULL ELSE b.id END, CAST(NULL AS TEXT) \
        FROM bookings b JOIN invitations i ON i.id = b.invitation_id JOIN studies s ON s.id = i.study_id \
        WHERE i.person_id = $1 \
        UNION ALL \
        SELECT 'survey', si.sent_at, s.id, s.title, CAST(NULL AS BIGINT), \
               CASE WHEN si.responded_at IS NULL THEN 'sent' ELSE 'answered' END, CAST(NULL AS BIGINT), sv.title \
        FROM survey_invitations si JOIN surveys sv ON sv.id = si.survey_id JOIN studies s ON s.id = sv.study_id \
        WHERE si.person_id = $1 \
        UNION ALL \
        SELECT 'holdout', h.created_at, s.id, s.title, r.number, CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
               CAST(NULL AS TEXT) \
        FROM holdouts h JOIN studies s ON s.id = h.study_id JOIN rounds r ON r.id = h.round_id \
        WHERE h.person_id = $1 \
        UNION ALL \
        SELECT 'opt_out', o.at, s.id, s.title, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
               CAST(NULL AS TEXT) \
        FROM opt_outs o LEFT JOIN studies s ON s.id = o.study_id \
        WHERE o.person_id = $1 \
        ORDER BY at, what";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(person_id).fetch_all(pool).await?))
}
