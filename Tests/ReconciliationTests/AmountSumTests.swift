import Reconciliation
import XCTest

/// Sums of missing payments' amounts keep the precision of the amounts summed.
final class AmountSumTests: XCTestCase {
    func testTheSumKeepsTheMostDecimalsSeen() {
        var sum = AmountSum()
        XCTAssertTrue(sum.add("12.50"))
        XCTAssertTrue(sum.add("3"))
        XCTAssertEqual(sum.description, "15.50")
        XCTAssertTrue(sum.add("0.125"))
        XCTAssertEqual(sum.description, "15.625")
        XCTAssertTrue(sum.add("-0.625"))
        XCTAssertEqual(sum.description, "15.000")
    }

    func testTextThatIsNotAPlainNumberIsNotAdded() {
        var sum = AmountSum()
        XCTAssertFalse(sum.add("12,50"))
        XCTAssertFalse(sum.add("1e3"))
        XCTAssertFalse(sum.add(""))
        XCTAssertEqual(sum.description, "0")
        XCTAssertTrue(sum.add(" 7 "))
        XCTAssertEqual(sum.description, "7")
    }
}
