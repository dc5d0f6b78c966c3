import Foundation

/// Text placed in the HTML reports (`reconcile`, `drill`).
package enum HTMLText {
    /// `text` with the five characters that HTML gives a meaning escaped, for element content and quoted attributes.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The one-line verdict of a report as a paragraph of class `verdict` with `ok` or `bad`: its opening clause
    /// and each of its parts (`at risk: `, `behind: `, `heartbeat: `, `first: `) on a line of their own, so that a
    /// phone shows four short lines rather than one block; the text, tags stripped, is the line word for word.
    package static func verdict(_ line: String, ok: Bool) -> String {
        var parts: [Substring] = []
        var rest = line[...]
        for marker in ["at risk: ", "behind: ", "heartbeat: ", "first: "] {
            guard let range = rest.range(of: "; " + marker) ?? rest.range(of: ": " + marker) else { continue }
            let cut = rest.index(after: range.lowerBound)
            parts.append(rest[..<cut])
            rest = rest[cut...]
        }
        parts.append(rest)
        let spans = parts.enumerated().map { index, part in
            let text = escape(String(part.drop { $0 == " " }))
            return index == 0 ? "<span class=\"what\">\(text)</span>" : "<span>\(text)</span>"
        }
        return "<p class=\"verdict \(ok ? "ok" : "bad")\">" + spans.joined(separator: " ") + "</p>"
    }

    /// A table (or chart) that may be wider than a phone's screen, in a box that scrolls sideways instead of
    /// cutting it off.
    package static func wide(_ html: String) -> String {
        "<div class=\"wide\">\n\(html)\n</div>"
    }

    /// One self-contained HTML page (inline CSS, no external assets) of the reports: `title` (escaped here) and
    /// the sections' HTML, in order. Classes: `verdict` with `ok` or `bad`; table cells `pass`, `fail`, `warn`, `skip`.
    package static func page(title: String, sections: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin-bottom: 1em; font-size: 0.9em; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        .verdict { font-size: 1.1em; padding: 0.4em 0.8em; }
        .verdict span { display: block; }
        .verdict .what { font-size: 1.2em; font-weight: bold; }
        .wide { overflow-x: auto; }
        .legend { color: #555; font-size: 0.85em; }
        @media (max-width: 600px) { body { margin: 0.8em; } th, td { padding: 0.2em 0.35em; } h1 { font-size: 1.5em; } }
        .ok, td.pass { background: #e3f6e3; color: #135e13; }
        .bad, td.fail { background: #fbe3e3; color: #8a1010; }
        td.warn { background: #fdf3d8; color: #7a5200; }
        td.skip { color: #777; }
        svg text { font-size: 11px; fill: #222; }
        </style>
        </head>
        <body>
        \(sections.joined(separator: "\n"))
        </body>
        </html>

        """
    }
}
