//! Public types are `Send + Sync`, so balancers can be shared across threads.

use loadring::{
    BoundedLoad, Choice, Error, FillFirst, HashRing, Jump, KeyHasher, Lease, LeastLoaded,
    LoadSource, Maglev, MaglevOptions, Modulo, Overflow, Prehashed, Reader, Rendezvous,
    RingOptions, RoundRobin, Server, Shared, Snapshot,
};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Error>();
    assert_send_sync::<Server>();
    assert_send_sync::<KeyHasher>();
    assert_send_sync::<Prehashed>();
    assert_send_sync::<Modulo>();
    assert_send_sync::<HashRing>();
    assert_send_sync::<RingOptions>();
    assert_send_sync::<Jump>();
    assert_send_sync::<Maglev>();
    assert_send_sync::<MaglevOptions>();
    assert_send_sync::<Rendezvous>();
    assert_send_sync::<BoundedLoad>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaRing>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaFlavor>();
    assert_send_sync::<Box<dyn loadring::Balancer>>();
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
    assert_send_sync::<Shared<HashRing>>();
    assert_send_sync::<Shared<Modulo>>();
    assert_send_sync::<Shared<RoundRobin>>();
    assert_send_sync::<Shared<LeastLoaded>>();
    assert_send_sync::<Shared<FillFirst>>();
    assert_send_sync::<Snapshot<LeastLoaded>>();
    assert_send_sync::<Reader<'static, HashRing>>();
}
