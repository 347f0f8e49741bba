//! cairn's web console, served at `/` on its own port: server-rendered pages over the same operations
//! as the API.
//!
//! Sign-in takes an access key and its secret (the API's identities) and opens a session (an HttpOnly,
//! SameSite=Strict cookie); every attempt is recorded as a `ConsoleLogin` event. Pages read and change
//! state only through [`cairn_api::console::call`], so what the console does is recorded as the API
//! calls it makes, marked `sessionCredentialFromConsole`. Every form carries a CSRF token: the session's,
//! or before sign-in one bound to a cookie of its own.
//!
//! Invariants: no page without a session except sign-in; no state change without the form's token;
//! every stored or requested value in a page is escaped (`html::escape`).

mod history;
mod html;
mod lake;
mod overview;
mod sessions;
mod trails;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cairn_api::console::Origin;
use cairn_api::{AppState, Caller};
use serde::Deserialize;
use serde_json::Value;

use crate::html::{escape, page};
use crate::sessions::{Session, Sessions};

const SESSION_COOKIE: &str = "cairn_session";
const SIGN_IN_COOKIE: &str = "cairn_signin";

/// What every page handler shares.
struct Console {
    api: Arc<AppState>,
    region: String,
    sessions: Sessions,
}

/// The console's routes, for `region`, over the API state `api`.
pub fn router(api: Arc<AppState>, region: String) -> Router {
    let console = Arc::new(Console { api, region, sessions: Sessions::default() });
    Router::new()
        .route("/", get(|| async { Redirect::to("/overview") }))
        .route("/overview", get(overview::show))
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signout", post(sign_out))
        .route("/history", get(history::show))
        .route("/history/event/{id}", get(history::event))
        .route("/history/live", get(history::live))
        .route("/trails", get(trails::list))
        .route("/trails/create", post(trails::create))
        .route("/trails/update", post(trails::update))
        .route("/trails/edit", get(trails::edit))
        .route("/trails/files", get(trails::files))
        .route("/trails/file", get(trails::file))
        .route("/trails/{action}", post(trails::act))
        .route("/lake", get(lake::list))
        .route("/lake/stores/create", post(lake::create))
        .route("/lake/stores/{id}", get(lake::edit))
        .route("/lake/stores/{id}/{action}", post(lake::act))
        .route("/lake/query", get(lake::editor).post(lake::run))
        .route("/lake/queries", get(lake::history))
        .route("/lake/queries/{id}", get(lake::results))
        .route("/lake/queries/{id}/results.csv", get(lake::results_csv))
        .route("/history.csv", get(history::csv))
        .route("/history.json", get(history::json))
        .with_state(console)
        .layer(axum::middleware::map_response(security_headers))
}

/// No page runs a script, is framed or posts anywhere else: a second line behind escaping.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, http::HeaderValue::from_static(value));
    }
    response
}

/// The value of cookie `name` in `headers`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> String {
    let age = max_age.map_or(String::new(), |seconds| format!("; Max-Age={seconds}"));
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}")
}

/// The caller's session, if its cookie names a live one.
fn session_of(console: &Console, headers: &HeaderMap) -> Option<(String, Session)> {
    let key = cookie(headers, SESSION_COOKIE)?;
    console.sessions.get(key).map(|session| (key.to_owned(), session))
}

/// A signed-in request: its session and the API caller it acts as. A request without a live
/// session is sent to sign-in instead.
pub(crate) struct Visit {
    session: Session,
    pub(crate) caller: Caller,
}

impl FromRequestParts<Arc<Console>> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Arc<Console>) -> Result<Visit, Response> {
        let Some((_, session)) = session_of(console, &parts.headers) else { return Err(to_sign_in()) };
        let source_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |ConnectInfo(peer)| peer.ip());
        let caller = Caller {
            principal: session.principal.clone(),
            region: console.region.clone(),
            service: "cloudtrail".to_owned(),
            source_ip,
            user_agent: user_agent(&parts.headers),
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        Ok(Visit { session, caller })
    }
}

impl Visit {
    /// Runs the CloudTrail operation `operation` as this visitor (recorded as a console call).
    async fn call(&self, console: &Console, operation: &str, input: Value) -> Result<Value, cairn_model::ApiError> {
        cairn_api::console::call(&console.api, &self.caller, operation, input).await
    }

    /// A whole page for this visitor, with the navigation and the sign-out form.
    fn page(&self, title: &str, body: &str) -> String {
        html::page(title, body, Some((user_name(&self.session), &self.session.csrf)))
    }

    /// [`Visit::page`] answered with `status`.
    fn respond(&self, status: StatusCode, title: &str, body: &str) -> Response {
        (status, axum::response::Html(self.page(title, body))).into_response()
    }

    /// [`Visit::respond`] with a page the browser reloads every `seconds`.
    fn respond_refreshing(&self, status: StatusCode, title: &str, body: &str, seconds: u32) -> Response {
        let page = html::refreshing_page(title, body, Some((user_name(&self.session), &self.session.csrf)), seconds);
        (status, axum::response::Html(page)).into_response()
    }

    /// Refuses a posted form whose token is not this session's.
    fn check(&self, csrf: &str) -> Result<(), Forged> {
        if csrf == self.session.csrf { Ok(()) } else { Err(Forged) }
    }

    fn csrf(&self) -> &str {
        &self.session.csrf
    }
}

/// A form whose CSRF token is not its session's: refused with 403.
pub(crate) struct Forged;

impl IntoResponse for Forged {
    fn into_response(self) -> Response {
        forbidden()
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Where to go without a session.
fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

fn user_name(session: &Session) -> &str {
    session.principal.user_name.as_deref().unwrap_or("root")
}

fn sign_in_form(csrf: &str, error: Option<&str>) -> String {
    let error = error.map_or(String::new(), html::alert);
    let body = format!(
        r#"{error}<form method="post" action="/signin">
<input type="hidden" name="csrf" value="{csrf}">
<label for="access_key_id">Access key ID</label><input id="access_key_id" name="access_key_id" autocomplete="username" required>
<label for="secret_access_key">Secret access key</label><input id="secret_access_key" name="secret_access_key" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p></form>"#,
        csrf = escape(csrf),
    );
    page("Sign in", &body, None)
}

async fn sign_in_page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if session_of(&console, &headers).is_some() {
        return Redirect::to("/history").into_response();
    }
    let csrf = sessions::token();
    ([(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &csrf, None))], axum::response::Html(sign_in_form(&csrf, None)))
        .into_response()
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    secret_access_key: String,
}

async fn sign_in(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if form.csrf.is_empty() || cookie(&headers, SIGN_IN_COOKIE) != Some(form.csrf.as_str()) {
        return forbidden();
    }
    let origin = Origin {
        region: console.region.clone(),
        source_ip: peer.ip(),
        user_agent: user_agent(&headers),
        login_to: format!("http://{}/history", headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("")),
    };
    match cairn_api::console::sign_in(&console.api, form.access_key_id.trim(), &form.secret_access_key, &origin).await {
        Ok(Some(principal)) => {
            let key = console.sessions.open(principal);
            let mut response = Redirect::to("/history").into_response();
            if let Ok(value) = set_cookie(SESSION_COOKIE, &key, None).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            if let Ok(value) = set_cookie(SIGN_IN_COOKIE, "", Some(0)).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(None) => {
            let body =
                sign_in_form(&form.csrf, Some("Sign-in failed: check the access key ID and the secret access key."));
            (StatusCode::UNAUTHORIZED, axum::response::Html(body)).into_response()
        }
        Err(error) => {
            let body = sign_in_form(&form.csrf, Some(&format!("Sign-in could not be recorded: {}", error.message)));
            (StatusCode::SERVICE_UNAVAILABLE, axum::response::Html(body)).into_response()
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(State(console): State<Arc<Console>>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let Some((key, session)) = session_of(&console, &headers) else { return to_sign_in() };
    if form.csrf != session.csrf {
        return forbidden();
    }
    console.sessions.close(&key);
    ([(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)))], Redirect::to("/signin")).into_response()
}

fn forbidden() -> Response {
    let body = page(
        "Forbidden",
        "<p>The form is out of date or was not sent by this console. Reload the page and try again.</p>",
        None,
    );
    (StatusCode::FORBIDDEN, axum::response::Html(body)).into_response()
}
