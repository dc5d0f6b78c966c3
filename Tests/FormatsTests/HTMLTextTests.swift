import Formats
import XCTest

/// The verdict paragraph of the HTML reports: each part on its own line, the words those of the line.
final class HTMLTextTests: XCTestCase {
    func testTheVerdictPutsEachPartOnItsOwnLineAndKeepsEveryWord() {
        let line = "NOT READY: pair p cannot fail over to eu-west now; at risk: 2 payments, EUR 26.00, not in eu-west; "
            + "behind: ledger 20000 records, 104 s behind by record timestamp, worst ledger/5; a 20 records; first: start the bridge <now> (4 of 16 checks failed)"
        let html = HTMLText.verdict(line, ok: false)
        XCTAssertEqual(html, """
            <p class="verdict bad"><span class="what">NOT READY: pair p cannot fail over to eu-west now;</span> \
            <span>at risk: 2 payments, EUR 26.00, not in eu-west;</span> \
            <span>behind: ledger 20000 records, 104 s behind by record timestamp, worst ledger/5; a 20 records;</span> \
            <span>first: start the bridge &lt;now&gt; (4 of 16 checks failed)</span></p>
            """)
        let text = html.replacing(/<[^>]+>/, with: "").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        XCTAssertEqual(text, line, "tags stripped, the line word for word")
        XCTAssertEqual(HTMLText.verdict("RPO=0 holds: at risk: nothing; behind: 0 records; first: nothing to do", ok: true), """
            <p class="verdict ok"><span class="what">RPO=0 holds:</span> <span>at risk: nothing;</span> <span>behind: 0 records;</span> \
            <span>first: nothing to do</span></p>
            """)
    }

    func testAWideTableScrollsInsteadOfBeingCutOff() {
        XCTAssertEqual(HTMLText.wide("<table></table>"), "<div class=\"wide\">\n<table></table>\n</div>")
        XCTAssertTrue(HTMLText.page(title: "t", sections: []).contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
    }
}
