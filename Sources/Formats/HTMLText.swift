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

    /// One self-contained HTML page (inline CSS, no external assets) of the reports: `title` (escaped here) and
    /// the sections' HTML, in order. Classes: `verdict` with `ok` or `bad`; table cells `pass`, `fail`, `warn`, `skip`.
    package static func page(title: String, sections: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escape(title))</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin-bottom: 1em; font-size: 0.9em; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        .verdict { font-size: 1.3em; font-weight: bold; padding: 0.4em 0.8em; display: inline-block; }
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
