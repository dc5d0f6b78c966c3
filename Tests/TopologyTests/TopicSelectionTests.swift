import Topology
import XCTest

final class TopicSelectionTests: XCTestCase {
    func testRenamePolicy() {
        XCTAssertEqual(RenamePolicy.prefix.targetTopic(for: "payment-events", sourceRegion: "us-east"), "us-east.payment-events")
        XCTAssertEqual(RenamePolicy.identity.targetTopic(for: "payment-events", sourceRegion: "us-east"), "payment-events")
        XCTAssertEqual(RenamePolicy.allCases, [.prefix, .identity])
        XCTAssertEqual(RenamePolicy(rawValue: "identity"), .identity)
    }

    func testSelectsWholeNamesOnly() {
        let selection = TopicSelection(include: ["payment-events", "ledger-.*"])
        XCTAssertTrue(selection.selects("payment-events"))
        XCTAssertFalse(selection.selects("payment-events-v2"))
        XCTAssertFalse(selection.selects("old-payment-events"))
        XCTAssertFalse(selection.selects("us-east.payment-events"))
        XCTAssertTrue(selection.selects("ledger-events"))
        XCTAssertFalse(selection.selects("ledger"))
        XCTAssertFalse(selection.selects("payment-events\n"))
    }

    func testAlternationMustMatchTheWholeName() {
        let selection = TopicSelection(include: ["a|ab"])
        XCTAssertTrue(selection.selects("a"))
        XCTAssertTrue(selection.selects("ab"))
        XCTAssertFalse(selection.selects("abc"))
    }

    func testExcludesWin() {
        let selection = TopicSelection(include: [".*-events"], exclude: ["test-.*", "audit-events"])
        XCTAssertTrue(selection.selects("payment-events"))
        XCTAssertFalse(selection.selects("test-events"))
        XCTAssertFalse(selection.selects("audit-events"))
        XCTAssertTrue(selection.selects("audit-events-archive-events"))
    }

    func testInternalAndBridgeTopicsAreNeverSelected() {
        let everything = TopicSelection(include: [".*"])
        XCTAssertTrue(everything.selects("payment-events"))
        XCTAssertFalse(everything.selects("__consumer_offsets"))
        XCTAssertFalse(everything.selects("__transaction_state"))
        XCTAssertFalse(everything.selects("regionbridge.x.offset-syncs"))
        XCTAssertFalse(TopicSelection(include: ["__consumer_offsets", "regionbridge\\..*"]).selects("__consumer_offsets"))
    }

    func testInvalidPatternSelectsNothing() {
        let selection = TopicSelection(include: ["(", "a"])
        XCTAssertFalse(selection.selects("("))
        XCTAssertTrue(selection.selects("a"))
    }

    func testChangingPatternsRecompilesThemAndEqualityComparesSources() {
        var selection = TopicSelection(include: ["a"])
        selection.include = ["b"]
        selection.exclude = ["b"]
        XCTAssertFalse(selection.selects("a"))
        XCTAssertFalse(selection.selects("b"))
        selection.exclude = []
        XCTAssertTrue(selection.selects("b"))
        XCTAssertEqual(selection, TopicSelection(include: ["b"]))
        XCTAssertNotEqual(selection, TopicSelection(include: ["b"], exclude: ["c"]))
        XCTAssertNotEqual(selection, TopicSelection(include: ["b"], discoveryInterval: .seconds(1)))
    }

    func testNormalizedBootstrapServers() {
        let endpoint = ClusterEndpoint(
            region: "us-east",
            bootstrapServers: " Kafka-2:9092,kafka-1:9092 ,, KAFKA-1:9092,localhost:9092,127.0.0.1:9092"
        )
        XCTAssertEqual(endpoint.normalizedBootstrapServers, ["127.0.0.1:9092", "kafka-1:9092", "kafka-2:9092", "localhost:9092"])
        XCTAssertEqual(endpoint.properties, [:])
    }

    func testInternalTopicPrefix() {
        let endpoint = ClusterEndpoint(region: "r", bootstrapServers: "h:1")
        let topology = Topology(pair: "a-to-b", source: endpoint, target: endpoint, topics: TopicSelection(include: []))
        XCTAssertEqual(topology.internalTopicPrefix, "regionbridge.a-to-b.")
    }
}
