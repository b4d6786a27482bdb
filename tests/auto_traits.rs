//! Public types are `Send + Sync`, so balancers can be shared across threads.

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<loadring::Error>();
    assert_send_sync::<loadring::Server>();
    assert_send_sync::<loadring::KeyHasher>();
    assert_send_sync::<loadring::Prehashed>();
    assert_send_sync::<loadring::Modulo>();
    assert_send_sync::<loadring::HashRing>();
    assert_send_sync::<loadring::RingOptions>();
    assert_send_sync::<loadring::Jump>();
    assert_send_sync::<loadring::Maglev>();
    assert_send_sync::<loadring::MaglevOptions>();
    assert_send_sync::<loadring::Rendezvous>();
    assert_send_sync::<loadring::BoundedLoad>();
    assert_send_sync::<loadring::Lease<'static>>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaRing>();
    #[cfg(feature = "ketama")]
    assert_send_sync::<loadring::KetamaFlavor>();
    assert_send_sync::<Box<dyn loadring::Balancer>>();
}
