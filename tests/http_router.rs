//! The HTTP router example end to end on loopback: real backends, the proxy in-process, real
//! requests. Video requests (by path and by `Accept`) reach only the video pool; a user
//! stays on one server across 100 requests and moves only when that server goes down.

#![cfg(all(feature = "http", feature = "serde"))]

#[path = "../examples/http_router/backend.rs"]
mod backend;
#[path = "../examples/http_router/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use loadring::Balancer;
use loadring::route::{RouteTable, Sticky};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use proxy::Proxy;

/// Every request and every wait is bounded by this.
const STEP: Duration = Duration::from_secs(5);

/// A backend answering with its address, on a free loopback port.
async fn start_backend() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (
        addr,
        tokio::spawn(backend::serve(listener, addr.to_string())),
    )
}

/// One answer through the proxy: its status, body (the backend's address) and sticky cookie.
struct Answer {
    status: StatusCode,
    body: String,
    set_cookie: Option<String>,
}

async fn get(proxy: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let exchange = async {
        let stream = TcpStream::connect(proxy).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::get(path).header("host", "app.example.com");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = sender
            .send_request(request.body(Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap().trim().to_owned();
        Answer {
            status,
            body,
            set_cookie,
        }
    };
    timeout(STEP, exchange).await.expect("an answer in time")
}

/// `"a", "b"`: a TOML list's items.
fn quoted(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    items.join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_goes_to_video_and_users_stay_until_their_server_goes_down() {
    timeout(Duration::from_secs(60), run())
        .await
        .expect("the test ends in time");
}

async fn run() {
    let mut backends: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut video = Vec::new();
    let mut web = Vec::new();
    for i in 0..5 {
        let (addr, task) = start_backend().await;
        backends.insert(addr.to_string(), task);
        if i < 2 { &mut video } else { &mut web }.push(addr.to_string());
    }
    let table = format!(
        r#"
        default = "web"
        [pools.video]
        strategy = "least-loaded"
        servers = [{}]
        [pools.web]
        strategy = "ring"
        servers = [{}]
        key = [{{ cookie = "user" }}, "client"]
        sticky = {{ cookie = "web-server" }}
        [[rules]]
        pool = "video"
        path_prefix = "/video/"
        [[rules]]
        pool = "video"
        headers = [{{ name = "accept", prefix = "video/" }}]
        "#,
        quoted(&video),
        quoted(&web)
    );
    let router = toml::from_str::<RouteTable>(&table)
        .unwrap()
        .with_sticky(Sticky::new(*b"e2e test secret!"))
        .build()
        .unwrap();
    let proxy = Arc::new(Proxy::new(router).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(Arc::clone(&proxy).serve(listener, async {
        let _ = stopped.await;
    }));

    // Video, by path and by Accept, reaches only the video pool; the rest only the web pool.
    for (path, accept) in [
        ("/video/1", "text/html"),
        ("/", "video/mp4"),
        ("/page", "text/html, video/webm;q=0.5"),
        ("/video/", "*/*"),
    ] {
        for _ in 0..10 {
            let answer = get(at, path, &[("accept", accept)]).await;
            assert_eq!(answer.status, StatusCode::OK);
            assert!(
                video.contains(&answer.body),
                "{path} {accept}: {}",
                answer.body
            );
        }
    }
    for path in ["/", "/videos", "/video", "/static/video/1"] {
        let answer = get(at, path, &[("accept", "text/html")]).await;
        assert!(web.contains(&answer.body), "{path}: {}", answer.body);
    }

    // A user gets a token and stays on one server across 100 requests.
    let first = get(at, "/", &[("cookie", "user=alice")]).await;
    let mut home = first.body.clone();
    let mut token = first.set_cookie.expect("a sticky token for a new user");
    assert!(token.starts_with("web-server="), "{token}");
    let cookie = |token: &str| format!("user=alice; {token}");
    for i in 0..100 {
        let answer = get(at, "/", &[("cookie", &cookie(&token))]).await;
        assert_eq!(
            (answer.body.as_str(), answer.set_cookie),
            (home.as_str(), None),
            "{i}"
        );
    }

    // Its server is marked down: the user moves, with a fresh token, and stays there, even
    // once the old server is back.
    let pool = proxy.router().pool("web").unwrap().balancer();
    pool.set_healthy(&home, false).unwrap();
    let moved = get(at, "/", &[("cookie", &cookie(&token))]).await;
    assert!(
        web.contains(&moved.body) && moved.body != home,
        "{}",
        moved.body
    );
    token = moved.set_cookie.expect("a fresh token");
    pool.set_healthy(&home, true).unwrap();
    home = moved.body;
    for _ in 0..20 {
        let answer = get(at, "/", &[("cookie", &cookie(&token))]).await;
        assert_eq!(answer.body, home);
    }

    // Its server stops: the connection is refused, the proxy reports it, tries another
    // server, and the user lands there with a fresh token, with no failed request.
    backends.remove(&home).unwrap().abort();
    let mut refused = true;
    for _ in 0..50 {
        // The abort takes effect when the task is next polled.
        refused = TcpStream::connect(home.as_str()).await.is_err();
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the stopped backend still accepts");
    let rescued = get(at, "/", &[("cookie", &cookie(&token))]).await;
    assert_eq!(rescued.status, StatusCode::OK);
    assert!(
        web.contains(&rescued.body) && rescued.body != home,
        "{}",
        rescued.body
    );
    let token = rescued.set_cookie.expect("a fresh token");
    let stopped_server = home;
    let home = rescued.body;
    for _ in 0..20 {
        let answer = get(at, "/", &[("cookie", &cookie(&token))]).await;
        assert_eq!(answer.body, home);
    }
    let ejected = pool.snapshot().server(&stopped_server).unwrap().clone();
    assert!(!ejected.is_available(), "the refused server is ejected");

    // Every lease ended with its answer.
    let all_done = async {
        for pool in proxy.router().pools() {
            let servers = pool.balancer().snapshot().servers().to_vec();
            while servers.iter().any(|s| s.in_flight() > 0) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    timeout(STEP, all_done)
        .await
        .expect("no request left in flight");

    stop.send(()).unwrap();
    timeout(STEP, serving).await.unwrap().unwrap().unwrap();
}
