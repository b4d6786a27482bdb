//! Every public type that should cross threads is `Send + Sync`.

fn send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<loadring::Jump>();
    send_sync::<loadring::Maglev>();
    send_sync::<loadring::MaglevOptions>();
    send_sync::<loadring::Rendezvous>();
    send_sync::<loadring::BoundedLoad>();
    send_sync::<loadring::Lease<'static>>();
    #[cfg(feature = "ketama")]
    send_sync::<loadring::KetamaRing>();
    #[cfg(feature = "ketama")]
    send_sync::<loadring::KetamaFlavor>();
}
