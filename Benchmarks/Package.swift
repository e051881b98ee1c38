// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "phantom-trail-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "phantom-trail-community", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "PhantomTrailBenchmarks",
            dependencies: [
                .product(name: "CommunityInsights", package: "phantom-trail-community"),
                .product(name: "PrivacyCore", package: "phantom-trail-community"),
                .product(name: "TestSupport", package: "phantom-trail-community"),
                .product(name: "P2PCore", package: "phantom-trail-community"),
                .product(name: "P2PNoise", package: "phantom-trail-community"),
                .product(name: "P2PYamux", package: "phantom-trail-community"),
                .product(name: "P2PHost", package: "phantom-trail-community"),
                .product(name: "P2PGossipSub", package: "phantom-trail-community"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ]
        )
    ]
)
