import TestSupport
import XCTest

/// A test case with two real tansu brokers, us-east (source) and eu-west (target), started for each test
/// and stopped after it, even when it fails.
class TwoRegionTestCase: XCTestCase {
    /// The source region's broker.
    var source: TansuBroker!
    /// The target region's broker.
    var target: TansuBroker!

    override func setUpWithError() throws {
        source = try TansuBroker(name: "us-east")
        target = try TansuBroker(name: "eu-west")
    }

    override func tearDown() {
        target?.thaw()
        source?.stop()
        target?.stop()
        source = nil
        target = nil
    }

    var sourceClient: KafkaTestClient { KafkaTestClient(bootstrap: source.bootstrap) }
    var targetClient: KafkaTestClient { KafkaTestClient(bootstrap: target.bootstrap) }
}
