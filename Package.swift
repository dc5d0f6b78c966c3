// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "RegionBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "regionbridge", targets: ["regionbridge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // Thin C-import targets: the only places that see librdkafka's and libpq's headers.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Client modules: all unsafe C interop lives here and nowhere else.
        .target(name: "Kafka", dependencies: [
            "CRdKafka",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .target(name: "Postgres", dependencies: [
            "CLibPQ",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),

        // Safe Swift above the clients. Topology asks Kafka's SecretProperties which properties are secret.
        .target(name: "Topology", dependencies: [
            "Kafka",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        // What several commands write and name: the provenance header, text tables, JSON, ISO time, HTML text.
        .target(name: "Formats", swiftSettings: strict),
        // The copy engine: discovery, planning, transactions, the copy loop, and the positions it publishes.
        .target(name: "Replication", dependencies: [
            "Kafka", "Topology", "Formats",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        // Consumers moving between regions: exact offset translation, the group-offset sync, failover and failback.
        .target(name: "Failover", dependencies: [
            "Kafka", "Topology", "Formats", "Replication",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // What operators watch: lag, alerts and their sinks, metrics, heartbeats, RPO alert rules, the HTTP server.
        .target(name: "Monitoring", dependencies: [
            "Kafka", "Topology", "Formats", "Replication",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        // Proof of zero RPO: committed payments in Postgres against the records in both regions, once or continuously.
        .target(name: "Reconciliation", dependencies: [
            "Kafka", "Postgres", "Topology", "Formats", "Replication", "Failover", "Monitoring",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // `regionbridge drill`: DR readiness checks (pure), their rendering, and the read-only run that feeds them.
        .target(name: "Drill", dependencies: [
            "Kafka", "Topology", "Formats", "Replication", "Failover", "Monitoring", "Reconciliation",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // The command line: parses options and wires the modules above; no logic of its own.
        .executableTarget(name: "regionbridge", dependencies: [
            "Kafka", "Topology", "Formats", "Replication", "Failover", "Monitoring", "Reconciliation", "Drill",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),

        // Writes demo and benchmark traffic.
        .executableTarget(name: "loadgen", dependencies: [
            "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/LoadGenerator", swiftSettings: strict),

        // Benchmark tools (`make bench`, `make soak`): librdkafka mock clusters with a round-trip time,
        // and a consumer that measures replication latency and checks exactly-once on a target.
        .executableTarget(name: "mockcluster", dependencies: [
            "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/MockClusterHost", swiftSettings: strict),
        .executableTarget(name: "latencyprobe", dependencies: [
            "Kafka",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], path: "Sources/LatencyProbe", swiftSettings: strict),

        // Tests: pure logic without servers, then integration tests on real brokers.
        .target(name: "TestSupport", dependencies: [
            "Kafka", "Postgres", "Topology",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Kafka"], swiftSettings: strict),
        .testTarget(name: "FormatsTests", dependencies: ["Formats"], swiftSettings: strict),
        .testTarget(name: "ReplicationTests", dependencies: [
            "Replication", "Topology", "Formats", "Kafka", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "FailoverTests", dependencies: ["Failover", "Replication"], swiftSettings: strict),
        .testTarget(name: "ReconciliationTests", dependencies: ["Reconciliation", "Monitoring", "Replication", "Topology", "Formats", "Kafka"], swiftSettings: strict),
        .testTarget(name: "DrillTests", dependencies: ["Drill", "Reconciliation", "Monitoring", "Failover", "Replication", "Topology", "Formats", "Kafka"], swiftSettings: strict),
        .testTarget(name: "MonitoringTests", dependencies: [
            "Monitoring", "Replication", "Topology", "Formats", "Kafka", "TestSupport",
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "DeployTests", dependencies: [
            "TestSupport", "Monitoring", "Replication", .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PostgresTests", dependencies: [
            "Postgres", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: [
            "Kafka", "Postgres", "Topology", "Formats", "Replication", "Failover", "Monitoring", "Reconciliation", "TestSupport",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
    ]
)
