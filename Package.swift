// swift-tools-version:6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "CryptoExtras", package: "swift-crypto")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")

let package = Package(
    name: "phantom-trail-community",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PrivacyCore", targets: ["PrivacyCore"]),
        .library(name: "CommunityInsights", targets: ["CommunityInsights"]),
        .library(name: "P2PCore", targets: ["P2PCore"]),
        .library(name: "P2PNoise", targets: ["P2PNoise"]),
        .library(name: "P2PYamux", targets: ["P2PYamux"]),
        .library(name: "P2PHost", targets: ["P2PHost"]),
        .library(name: "P2PGossipSub", targets: ["P2PGossipSub"]),
        .library(name: "PrivacyNetwork", targets: ["PrivacyNetwork"]),
        .library(name: "Dashboard", targets: ["Dashboard"]),
        .library(name: "NodeRuntime", targets: ["NodeRuntime"]),
        .library(name: "TestSupport", targets: ["TestSupport"]),
        .executable(name: "phantom-trail", targets: ["PhantomTrailCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // Domain: one user's data, what may leave the device, wire reports. swift-crypto only.
        .target(name: "PrivacyCore", dependencies: [crypto, cryptoExtras], swiftSettings: upcomingFeatures),
        // Community statistics computed over many reports.
        .target(name: "CommunityInsights", dependencies: ["PrivacyCore"], swiftSettings: upcomingFeatures),

        // The libp2p stack: never imports the domain.
        .target(name: "P2PCore", dependencies: [nioCore, crypto, logging], swiftSettings: upcomingFeatures),
        .target(
            name: "P2PNoise",
            dependencies: ["P2PCore", nioCore, crypto, logging],
            swiftSettings: upcomingFeatures
        ),
        .target(name: "P2PYamux", dependencies: ["P2PCore", nioCore, logging], swiftSettings: upcomingFeatures),

        // Transports, upgrade pipeline, identify, ping, connection manager and the async Host.
        .target(
            name: "P2PHost",
            dependencies: ["P2PCore", "P2PNoise", "P2PYamux", nioCore, nioPosix, crypto, logging, serviceLifecycle],
            swiftSettings: upcomingFeatures
        ),

        // GossipSub v1.1: protobuf RPC, a pure router (mesh, gossip, scoring), its driver, and the
        // binding that runs it over a LibP2PHost's streams.
        .target(
            name: "P2PGossipSub",
            dependencies: ["P2PCore", "P2PHost", nioCore, crypto, logging, serviceLifecycle],
            swiftSettings: upcomingFeatures
        ),

        // The community protocol on the stack: report topic, stem relay, catch-up sync, discovery.
        .target(
            name: "PrivacyNetwork",
            dependencies: [
                "PrivacyCore", "CommunityInsights", "P2PCore", "P2PHost", "P2PGossipSub", nioCore, nioPosix, crypto,
                logging,
            ],
            swiftSettings: upcomingFeatures
        ),
        // The local web dashboard and JSON API (Hummingbird), over a data source the node provides.
        .target(
            name: "Dashboard",
            dependencies: ["PrivacyCore", "CommunityInsights", hummingbird, logging],
            swiftSettings: upcomingFeatures
        ),
        // Composition: settings, storage (SQLite via GRDB), the node as a service group, native messaging.
        .target(
            name: "NodeRuntime",
            dependencies: [
                "PrivacyCore", "CommunityInsights", "P2PCore", "P2PHost", "P2PGossipSub", "PrivacyNetwork",
                "Dashboard", grdb, nioCore, logging, serviceLifecycle,
            ],
            swiftSettings: upcomingFeatures
        ),

        // Shared test and simulation helpers (synthetic population, seeded RNG, manual clock).
        .target(
            name: "TestSupport",
            dependencies: [
                "PrivacyCore", "CommunityInsights", "P2PCore", "P2PGossipSub", "PrivacyNetwork", nioCore, nioEmbedded,
            ],
            swiftSettings: upcomingFeatures
        ),

        .executableTarget(
            name: "PhantomTrailCLI",
            dependencies: [
                "PrivacyCore", "CommunityInsights", "TestSupport", "P2PCore", "P2PHost", "P2PGossipSub",
                "PrivacyNetwork", "Dashboard", "NodeRuntime", argumentParser, logging, serviceLifecycle,
            ],
            swiftSettings: upcomingFeatures
        ),

        .testTarget(
            name: "PrivacyCoreTests",
            dependencies: ["PrivacyCore", "TestSupport", propertyBased],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "CommunityInsightsTests",
            dependencies: ["CommunityInsights", "PrivacyCore", "TestSupport", propertyBased],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PCoreTests",
            dependencies: ["P2PCore", "TestSupport", nioCore, nioEmbedded],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PNoiseTests",
            dependencies: ["P2PNoise", "P2PCore", "TestSupport", nioCore, nioEmbedded, crypto],
            resources: [.copy("Vectors")],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PYamuxTests",
            dependencies: ["P2PYamux", "TestSupport", nioCore, nioEmbedded],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PHostTests",
            dependencies: [
                "P2PHost", "P2PCore", "P2PNoise", "P2PYamux", "TestSupport", nioCore, nioEmbedded, nioPosix,
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "P2PGossipSubTests",
            dependencies: ["P2PGossipSub", "P2PCore", "P2PHost", "TestSupport", nioCore],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PrivacyNetworkTests",
            dependencies: [
                "PrivacyNetwork", "PrivacyCore", "CommunityInsights", "P2PCore", "P2PHost", "P2PGossipSub",
                "TestSupport", nioCore, nioEmbedded,
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["Dashboard", "PrivacyCore", "CommunityInsights", "TestSupport", hummingbirdTesting],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "NodeRuntimeTests",
            dependencies: [
                "NodeRuntime", "PrivacyNetwork", "Dashboard", "PrivacyCore", "CommunityInsights", "TestSupport",
                grdb,
            ],
            swiftSettings: upcomingFeatures
        ),
        // The only tests that open real sockets or start subprocesses (CLI, py-libp2p interop peer, browser).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "P2PHost", "P2PCore", "P2PGossipSub", "PrivacyCore", "PrivacyNetwork", "TestSupport", "NodeRuntime",
                "CommunityInsights", "Dashboard", nioCore, nioPosix, logging, serviceLifecycle,
            ],
            resources: [.copy("Interop")],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PhantomTrailCLITests",
            dependencies: ["PhantomTrailCLI", "PrivacyCore", "CommunityInsights", "TestSupport"],
            swiftSettings: upcomingFeatures
        ),
    ]
)
