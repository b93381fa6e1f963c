//! What the server supports (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, for clients that read them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{Error, authenticate, base, respond};
use crate::domain::scim::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, MAX_COUNT, ScimError, USER_SCHEMA, list_json};
use crate::web::state::AppState;

/// The schemas' definitions (User, the enterprise extension, Group).
const SCHEMAS: &str = include_str!("schemas.json");

pub async fn service_provider_config(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let base = base(&req, &state).await?;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "An API token with the scim scope, created by an administrator on the API tokens page",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    });
    Ok(respond(StatusCode::OK, &body))
}

fn resource_types(base: &str) -> Vec<Value> {
    let one = |id: &str, endpoint: &str, schema: &str, extensions: Value| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id,
            "name": id,
            "endpoint": endpoint,
            "schema": schema,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{id}")},
        })
    };
    vec![
        one("User", "/Users", USER_SCHEMA, json!([{"schema": ENTERPRISE_SCHEMA, "required": false}])),
        one("Group", "/Groups", GROUP_SCHEMA, json!([])),
    ]
}

fn schemas(base: &str) -> Vec<Value> {
    let mut all: Vec<Value> = serde_json::from_str(SCHEMAS).unwrap_or_default();
    for s in &mut all {
        let id = s["id"].as_str().unwrap_or_default().to_string();
        s["meta"]["location"] = Value::String(format!("{base}/Schemas/{id}"));
    }
    all
}

pub async fn list_resource_types(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let all = resource_types(&base(&req, &state).await?);
    Ok(respond(StatusCode::OK, &list_json(all.len(), 1, all)))
}

pub async fn resource_type(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let all = resource_types(&base(&req, &state).await?);
    let found =
        all.into_iter().find(|r| r["id"] == id.as_str()).ok_or_else(|| ScimError::not_found("ResourceType", &id))?;
    Ok(respond(StatusCode::OK, &found))
}

pub async fn list_schemas(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let all = schemas(&base(&req, &state).await?);
    Ok(respond(StatusCode::OK, &list_json(all.len(), 1, all)))
}

pub async fn schema(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let all = schemas(&base(&req, &state).await?);
    let found = all
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(&id)))
        .ok_or_else(|| ScimError::not_found("Schema", &id))?;
    Ok(respond(StatusCode::OK, &found))
}
