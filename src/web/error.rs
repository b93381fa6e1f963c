//! The web layer's one error type, mapped once to a response. Internal
//! errors are logged and shown as a generic page.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};

use crate::storage::disk_full;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign in required")]
    SignIn { next: String },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("invalid or missing CSRF token")]
    Csrf,
    #[error("too many attempts")]
    TooMany,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::storage::CorruptJson> for WebError {
    fn from(e: crate::storage::CorruptJson) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(e.into())
    }
}

/// The words of an error page in both languages, kept with the response so
/// that the page can be said in the reader's language once the request is
/// known (see `localize`).
#[derive(Clone, Debug)]
pub struct ErrorTexts {
    title: (String, String),
    body: (String, String),
}

/// "English · 中文" as its two halves (the same text twice when there is
/// no Chinese half).
fn halves(text: &str) -> (String, String) {
    match text.split_once(" · ") {
        Some((en, zh)) => (en.to_string(), zh.to_string()),
        None => (text.to_string(), text.to_string()),
    }
}

fn page_html(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"error-page\">\
         <main><h1>{title}</h1><p>{body}</p><p><a href=\"/\">Undercurrent</a></p></main></body></html>"
    )
}

/// An error page with both languages (`title` and `body` as "English ·
/// 中文"); `localize` keeps the reader's half.
fn simple_page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let mut response = HttpResponse::build(status).content_type(ContentType::html()).body(page_html("en", title, body));
    response.extensions_mut().insert(ErrorTexts { title: halves(title), body: halves(body) });
    response
}

/// The error page again in `lang` alone, when the response is one of ours.
pub fn localize(texts: &ErrorTexts, lang: crate::web::i18n::Lang) -> String {
    let zh = lang == crate::web::i18n::Lang::ZhCn;
    let pick = |(en, zh_text): &(String, String)| if zh { zh_text.clone() } else { en.clone() };
    page_html(lang.code(), &pick(&texts.title), &pick(&texts.body))
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignIn { .. } => StatusCode::SEE_OTHER,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(e) if disk_full(e) => StatusCode::INSUFFICIENT_STORAGE,
            WebError::Internal(e) if database_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::SignIn { next } => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/login?next={}", crate::web::url::path_value(next))))
                .finish(),
            WebError::Forbidden => simple_page(
                self.status_code(),
                "Forbidden · 无权访问",
                "Your role cannot open this page. · 您的角色无权打开此页面。",
            ),
            WebError::Csrf => simple_page(
                self.status_code(),
                "Form expired · 表单已过期",
                "Reload the page and try again. · 请刷新页面后重试。",
            ),
            WebError::NotFound => {
                simple_page(self.status_code(), "Not found · 未找到", "There is nothing here. · 此处没有内容。")
            }
            WebError::BadRequest(m) => {
                simple_page(self.status_code(), "Bad request · 请求有误", &super::charts::escape(m))
            }
            WebError::TooMany => simple_page(
                self.status_code(),
                "Too many attempts · 尝试次数过多",
                "Wait a few minutes, then try again. · 请稍候几分钟再试。",
            ),
            WebError::Internal(e) if disk_full(e) => {
                tracing::error!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "disk full");
                simple_page(
                    self.status_code(),
                    "Disk full · 磁盘已满",
                    "The server's disk is full, so nothing was saved. Tell the administrator, then try again. · 服务器磁盘已满，未保存任何内容。请通知管理员后再试。",
                )
            }
            WebError::Internal(e) if database_unavailable(e) => {
                tracing::warn!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "database unavailable");
                let mut r = simple_page(
                    self.status_code(),
                    "Temporarily unavailable · 暂时无法使用",
                    "The database cannot be reached. Try again in a minute. · 暂时无法连接数据库，请一分钟后再试。",
                );
                r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
                r
            }
            WebError::Internal(e) => {
                tracing::error!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "request failed");
                simple_page(self.status_code(), "Something went wrong · 出错了", "The error was logged. · 错误已记录。")
            }
        }
    }
}

/// A query string, form or JSON body that does not parse: our own page
/// with the parser's status (400, 413 for a body too large...), never its
/// message, which often quotes the input.
pub fn unreadable_input(e: impl ResponseError + 'static) -> actix_web::Error {
    let status = e.status_code();
    let cause = crate::app::secrets::mask_emails(&e.to_string());
    tracing::debug!(error = cause, "unreadable request");
    let page = if status == StatusCode::PAYLOAD_TOO_LARGE {
        simple_page(status, "Too large · 内容过大", "The request is larger than allowed. · 请求超出允许的大小。")
    } else {
        simple_page(status, "Bad request · 请求有误", "The request could not be read. · 无法读取该请求。")
    };
    actix_web::error::InternalError::from_response(cause, page).into()
}

/// A path segment of the wrong kind (`/studies/abc`): there is nothing there.
pub fn unreadable_path(e: impl std::fmt::Display) -> actix_web::Error {
    tracing::debug!(error = crate::app::secrets::mask_emails(&e.to_string()), "unreadable path");
    WebError::NotFound.into()
}

/// Whether an error is the database being away (down, restarting, or every
/// connection busy), as opposed to a bug: those get a 503 that says to try
/// again, and the pool reconnects by itself when the database returns.
pub fn database_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| match cause.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed) => {
            true
        }
        // PostgreSQL: connection exceptions (08), shutdown or restart (57P),
        // too many connections (53300), a database not accepting
        // connections (55000 at connect); SQLite: busy past the timeout.
        Some(sqlx::Error::Database(d)) => d.code().is_some_and(|c| {
            c.starts_with("08") || c.starts_with("57P") || c == "53300" || c == "55000" || c == "5" || c == "517"
        }),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_with_retry_after_and_a_bug_is_a_500() {
        let down = WebError::Internal(anyhow::Error::from(sqlx::Error::PoolTimedOut).context("loading settings"));
        assert_eq!(down.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let r = down.error_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get(header::RETRY_AFTER).unwrap(), "30");
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(WebError::Internal(sqlx::Error::Io(refused).into()).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let bug = WebError::Internal(anyhow::anyhow!("a bug"));
        assert_eq!(bug.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let bad_sql = WebError::Internal(sqlx::Error::RowNotFound.into());
        assert_eq!(bad_sql.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_full_disk_is_a_507_that_says_so() {
        let full = std::io::Error::from_raw_os_error(28);
        let e = WebError::Internal(anyhow::Error::new(full).context("saving notes"));
        assert_eq!(e.status_code(), StatusCode::INSUFFICIENT_STORAGE);
        let body = actix_web::body::to_bytes(e.error_response().into_body());
        let body = futures_util::FutureExt::now_or_never(body).unwrap().unwrap();
        assert!(String::from_utf8_lossy(&body).contains("disk is full"));
        let other = std::io::Error::from_raw_os_error(13);
        assert_eq!(WebError::Internal(other.into()).status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
