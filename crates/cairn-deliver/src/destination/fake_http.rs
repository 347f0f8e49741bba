//! A tiny HTTP endpoint on 127.0.0.1 for the tests of `destination` and `notify`: it records every
//! request and answers what the test tells it to.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// One request as the endpoint received it.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Captured {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the endpoint answers: status, headers, body.
pub(crate) type Answer = (u16, Vec<(&'static str, String)>, String);

/// A running endpoint; it stops with the test's runtime.
pub(crate) struct FakeHttp {
    /// `http://127.0.0.1:<port>`
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Captured>>>,
}

impl FakeHttp {
    pub(crate) async fn start(answer: impl Fn(&Captured) -> Answer + Send + Sync + 'static) -> FakeHttp {
        let requests: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let answer = Arc::new(answer);
        let seen = Arc::clone(&requests);
        let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (seen, answer) = (Arc::clone(&seen), Arc::clone(&answer));
            async move {
                let captured = Captured { method, uri, headers, body: body.to_vec() };
                let (status, headers, body) = answer(&captured);
                seen.lock().unwrap().push(captured);
                let mut response = Response::builder().status(StatusCode::from_u16(status).unwrap());
                for (name, value) in headers {
                    response = response.header(name, value);
                }
                response.body(Body::from(body)).unwrap()
            }
        };
        let router = axum::Router::new().fallback(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        FakeHttp { url, requests }
    }

    pub(crate) fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }
}

/// A 127.0.0.1 URL where nothing listens (the port was just free).
pub(crate) async fn refusing_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
