//! Dismissing the first run's checklist (administrators).

use actix_web::{HttpResponse, web};

use super::see_other;
use crate::app::first_run;
use crate::domain::account::Permission;
use crate::storage::audit;
use crate::web::error::WebError;
use crate::web::session::Viewer;
use crate::web::state::AppState;

pub async fn dismiss(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    first_run::dismiss(&state.db).await?;
    audit::record(&state.db, viewer.audit_actor(), "first_run.dismiss", None, None).await?;
    Ok(see_other("/"))
}
