//! Sample runs shared by unit tests: the seed's three sources and a multi-process fault's.

/// The seed failure: the service log and the two tabs, as `(label, text)`.
pub const SEED: [(&str, &str); 3] = [
    (
        "internal-service.log",
        include_str!("../samples/seed/internal-service.log"),
    ),
    (
        "alice-tab0.playwright.log",
        include_str!("../samples/seed/alice-tab0.playwright.log"),
    ),
    (
        "bob-tab1.devtools.log",
        include_str!("../samples/seed/bob-tab1.devtools.log"),
    ),
];

/// A multi-process fault (a peer killed mid-transfer): the server and two services.
pub const MULTI_PEER_KILLED: [(&str, &str); 3] = [
    (
        "citadel-server.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/citadel-server.log"),
    ),
    (
        "service-a.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/service-a.log"),
    ),
    (
        "service-b.log",
        include_str!("../samples/faults/multi-peer-killed-mid-transfer/service-b.log"),
    ),
];
