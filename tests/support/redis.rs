//! Test support: a real `redis-server` of the test's own (or a three-node Redis Cluster) on
//! free loopback ports, with no persistence, killed when dropped. When the binaries are
//! absent, `start` prints why and answers `None`, and the test skips.

#![allow(dead_code)] // each test file uses a part

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use redis::ConnectionLike;

/// How long a server may take to answer after its start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `program` runs here.
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// One `redis-server` process.
pub struct RedisServer {
    port: u16,
    /// The cluster bus port, for a cluster node.
    bus_port: Option<u16>,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// A single server, answering; `None` (with a message) when `redis-server` is absent.
    pub fn start() -> Option<Self> {
        if !installed("redis-server") {
            skip("`redis-server` is not installed (apt-get install -y redis-server)");
            return None;
        }
        Some(RedisServer::launch(false))
    }

    fn launch(cluster: bool) -> Self {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("loadring-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let mut server = RedisServer {
            port,
            bus_port: cluster.then(free_port),
            dir,
            child: None,
        };
        server.run();
        server
    }

    /// Starts the process on this server's port and waits until it answers.
    fn run(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"));
        if let Some(bus) = self.bus_port {
            cmd.args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
            ])
            .args(["--cluster-port", &bus.to_string()])
            .args(["--cluster-node-timeout", "2000"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while self.query(&redis::cmd("PING")).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} did not answer within {START_TIMEOUT:?}; its log: {}",
                self.port,
                std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs one command on a connection of its own to this server.
    pub fn query(&self, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        let timeout = Duration::from_secs(1);
        let mut conn = redis::Client::open(self.url())?.get_connection_with_timeout(timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.req_command(cmd)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: there is no persistence).
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the process: a Redis that accepts connections
    /// and answers nothing.
    pub fn freeze(&self, frozen: bool) {
        if let Some(child) = &self.child {
            let signal = if frozen { "-STOP" } else { "-CONT" };
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A three-node Redis Cluster without replicas.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Three nodes with every slot assigned, answering; `None` (with a message) when
    /// `redis-server` or `redis-cli` is absent.
    pub fn start() -> Option<Self> {
        if !installed("redis-server") || !installed("redis-cli") {
            skip(
                "`redis-server` or `redis-cli` is not installed (apt-get install -y redis-server)",
            );
            return None;
        }
        let nodes: Vec<RedisServer> = (0..3).map(|_| RedisServer::launch(true)).collect();
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let out = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster { nodes };
        cluster.wait_ok();
        Some(cluster)
    }

    /// Waits until every node reports the cluster ok.
    fn wait_ok(&self) {
        let deadline = Instant::now() + START_TIMEOUT * 3;
        for node in &self.nodes {
            loop {
                let info = node.query(redis::cmd("CLUSTER").arg("INFO"));
                let ok = match info {
                    Ok(redis::Value::BulkString(b)) => {
                        String::from_utf8_lossy(&b).contains("cluster_state:ok")
                    }
                    Ok(redis::Value::VerbatimString { text, .. }) => {
                        text.contains("cluster_state:ok")
                    }
                    _ => false,
                };
                if ok {
                    break;
                }
                assert!(Instant::now() < deadline, "the cluster did not come up");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Kills every node and starts them again on their ports, with their cluster
    /// configuration (and no data); waits until the cluster is ok.
    pub fn restart(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        for node in &mut self.nodes {
            node.run();
        }
        self.wait_ok();
    }

    pub fn freeze(&self, frozen: bool) {
        for node in &self.nodes {
            node.freeze(frozen);
        }
    }

    pub fn kill(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
    }
}

/// Says why a Redis test does not run; fails it instead where `LOADRING_REQUIRE_REDIS` is set
/// (CI sets it, so a missing server cannot pass there unnoticed).
fn skip(why: &str) {
    assert!(
        std::env::var_os("LOADRING_REQUIRE_REDIS").is_none(),
        "LOADRING_REQUIRE_REDIS is set but {why}"
    );
    eprintln!("SKIPPED: {why}; CI installs it");
}
