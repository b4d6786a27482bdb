//! Public types are `Send + Sync`, so balancers can be shared across threads.

use loadring::{
    AnyBalancer, BoundedLoad, BoundedOptions, Choice, Error, FillFirst, FillFirstOptions, Fleet,
    HashRing, InitialHealth, Jump, KeyHasher, Lease, LeastLoaded, LeastLoadedOptions, LoadSource,
    Maglev, MaglevOptions, Modulo, Overflow, PickError, Prehashed, Reader, Rendezvous, RingOptions,
    RoundRobin, Server, Shared, Snapshot, Strategy, SyncOptions, SyncReport,
};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Error>();
    assert_send_sync::<PickError>();
    assert_send_sync::<Fleet>();
    assert_send_sync::<Server>();
    assert_send_sync::<KeyHasher>();
    assert_send_sync::<Prehashed>();
    assert_send_sync::<loadring::route::ClientKey>();
    assert_send_sync::<loadring::route::FlowKey>();
    assert_send_sync::<loadring::route::Protocol>();
    assert_send_sync::<loadring::route::Sticky>();
    assert_send_sync::<loadring::health::SlowStart>();
    assert_send_sync::<loadring::health::ManualClock>();
    assert_send_sync::<Modulo>();
    assert_send_sync::<HashRing>();
    assert_send_sync::<RingOptions>();
    assert_send_sync::<Jump>();
    assert_send_sync::<Maglev>();
    assert_send_sync::<MaglevOptions>();
    assert_send_sync::<Rendezvous>();
    assert_send_sync::<BoundedLoad>();
    assert_send_sync::<BoundedOptions>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaRing>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaFlavor>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaOptions>();
    assert_send_sync::<Box<dyn loadring::Balancer>>();
    assert_send_sync::<Box<dyn loadring::Update>>();
    assert_send_sync::<AnyBalancer>();
    assert_send_sync::<Strategy>();
    assert_send_sync::<SyncOptions>();
    assert_send_sync::<InitialHealth>();
    assert_send_sync::<SyncReport>();
}

#[test]
fn pickers_and_shared_balancers_are_send_and_sync() {
    assert_send_sync::<RoundRobin>();
    assert_send_sync::<LeastLoaded>();
    assert_send_sync::<FillFirst>();
    assert_send_sync::<Lease<'static>>();
    assert_send_sync::<Choice>();
    assert_send_sync::<LoadSource>();
    assert_send_sync::<Overflow>();
    assert_send_sync::<LeastLoadedOptions>();
    assert_send_sync::<FillFirstOptions>();
    assert_send_sync::<Shared<HashRing>>();
    assert_send_sync::<Shared<Modulo>>();
    assert_send_sync::<Shared<RoundRobin>>();
    assert_send_sync::<Shared<LeastLoaded>>();
    assert_send_sync::<Shared<FillFirst>>();
    assert_send_sync::<Shared<AnyBalancer>>();
    assert_send_sync::<Snapshot<LeastLoaded>>();
    assert_send_sync::<Reader<'static, HashRing>>();
}

#[cfg(feature = "redis")]
#[test]
fn redis_reporters_and_pollers_are_send_and_sync() {
    use loadring::redis::*;
    assert_send_sync::<Connector>();
    assert_send_sync::<Keys>();
    assert_send_sync::<Figures>();
    assert_send_sync::<Reporter>();
    assert_send_sync::<ReporterHandle>();
    assert_send_sync::<ReportOptions>();
    assert_send_sync::<Poller>();
    assert_send_sync::<PollerHandle>();
    assert_send_sync::<PollOptions>();
    assert_send_sync::<PollReport>();
    assert_send_sync::<PollStats>();
    assert_send_sync::<LinkStats>();
}
