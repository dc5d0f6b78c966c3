import Foundation

/// Left-aligned columns separated by two spaces.
package enum TextTable {
    /// The rows as columns; with `width`, a last column that would run past it is wrapped between words under
    /// its own start (the other columns are never cut).
    package static func render(_ rows: [[String]], width: Int? = nil) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lastStart = widths.dropLast().reduce(0) { $0 + $1 + 2 }
        return rows.map { row in
            let line = row.enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            guard let width, line.count > width, width - lastStart >= 20, let last = row.last else { return line }
            let indent = String(repeating: " ", count: lastStart)
            let head = row.dropLast().enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "  "
            return TextWrap.wrap(last, width: width, first: head, rest: indent)
        }.joined(separator: "\n")
    }
}

/// Prose for a terminal: words wrapped at a width, continuation lines indented, never a word cut in two.
package enum TextWrap {
    /// `text` wrapped at `width` columns; the first line starts with `first`, the others with `rest`. A word longer
    /// than a line stands alone on its line.
    package static func wrap(_ text: String, width: Int = 80, first: String = "", rest: String = "") -> String {
        var lines: [String] = []
        var line = first
        var empty = true
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if !empty && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                empty = true
            }
            line += (empty ? "" : " ") + word
            empty = false
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
