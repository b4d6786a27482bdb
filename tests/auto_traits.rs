//! Public types that cross threads are `Send + Sync`.

use loadring::{
    Choice, FillFirst, HashRing, Lease, LeastLoaded, LoadSource, Modulo, Overflow, Reader,
    RoundRobin, Shared, Snapshot,
};

fn assert_send_sync<T: Send + Sync>() {}

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
