import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of an S3 XML answer: its local name, its text and its child elements.
struct XMLNode: Sendable {
    let name: String
    var text: String
    var children: [XMLNode]

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    func text(_ name: String) -> String? { child(name)?.text }
}

/// Why an XML answer was refused.
package struct XMLRefused: Error, Equatable, Sendable, CustomStringConvertible {
    let problem: String
    package var description: String { problem }
}

/// Parses S3's XML answers with FoundationXML's `XMLParser`, defensively: the input and the
/// tree are bounded, a document type declaration (and so any entity) is refused before the
/// parser sees the bytes, external entities are never resolved, and malformed input is an
/// `XMLRefused` error, never a trap. S3 answers are small, flat documents: a ListObjectsV2
/// page of 1000 keys is about 8,000 elements, a ListObjectVersions page about 11,000.
enum XMLTree {
    struct Limits: Sendable {
        var bytes = 16 * 1024 * 1024
        var depth = 16
        var elements = 100_000
        var textBytes = 64 * 1024
    }

    static func parse(_ data: Data, limits: Limits = Limits()) throws -> XMLNode {
        guard data.count <= limits.bytes else { throw XMLRefused(problem: "the XML answer exceeds \(limits.bytes) bytes") }
        guard !data.isEmpty else { throw XMLRefused(problem: "the answer is empty where XML was expected") }
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil || data.range(of: Data("<!ENTITY".utf8)) != nil {
            throw XMLRefused(problem: "the XML answer has a document type declaration")
        }
        // FoundationXML leaks a string for every error libxml2 reports (docs/fuzzing.md), and
        // libxml2 reports some errors once per occurrence, to the end of the input, without a
        // callback between them at which to stop it: a control character, a byte that is not
        // UTF-8 (S3 answers in UTF-8), a malformed reference, `]]>` outside a CDATA section.
        // Those are refused here, and CDATA sections with them, which S3 never sends (and
        // whose text this parser would drop).
        guard !data.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0a && $0 != 0x0d }),
              String(validating: data, as: UTF8.self) != nil else {
            throw XMLRefused(problem: "the XML answer is not UTF-8 text (a control character or an invalid byte)")
        }
        // FoundationXML hands a processing instruction's data to strlen without checking for
        // none: `<?x?>` anywhere in an answer was a null dereference (found by the s3-xml
        // target). S3 sends one, the XML declaration, first; any other is refused.
        let declaration = data.starts(with: Data("<?xml ".utf8)) ? 6 : 0
        guard data[(data.startIndex + declaration)...].range(of: Data("<?".utf8)) == nil else {
            throw XMLRefused(problem: "the XML answer has a processing instruction")
        }
        guard data.range(of: Data("]]>".utf8)) == nil, data.range(of: Data("<![CDATA[".utf8)) == nil else {
            throw XMLRefused(problem: "the XML answer has a CDATA section")
        }
        guard referencesAreWellFormed(data) else {
            throw XMLRefused(problem: "the XML answer has a malformed entity or character reference")
        }
        let builder = TreeBuilder(limits: limits)
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let refusal = builder.refusal { throw refusal }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { "line \(parser.lineNumber): \(($0 as NSError).code)" } ?? "no root element"
            throw XMLRefused(problem: "the answer is not well-formed XML (\(reason))")
        }
        return root
    }

    /// Whether every `&` starts a predefined entity (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`, the
    /// only ones without a DTD) or a reference to a character XML allows.
    static func referencesAreWellFormed(_ data: Data) -> Bool {
        let bytes = [UInt8](data)
        var index = 0
        while let ampersand = bytes[index...].firstIndex(of: UInt8(ascii: "&")) {
            guard let semicolon = bytes[ampersand...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { return false }
            let name = String(decoding: bytes[(ampersand + 1)..<semicolon], as: UTF8.self)
            switch name {
            case "amp", "lt", "gt", "quot", "apos":
                break
            default:
                let digits = name.hasPrefix("#x") ? name.dropFirst(2) : name.hasPrefix("#") ? name.dropFirst() : ""
                let radix = name.hasPrefix("#x") ? 16 : 10
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }),
                      let value = UInt32(digits, radix: radix), isXMLCharacter(value) else { return false }
            }
            index = semicolon + 1
        }
        return true
    }

    /// XML 1.0's `Char`.
    private static func isXMLCharacter(_ value: UInt32) -> Bool {
        value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
            || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
    }

    /// Builds the tree, counting as it goes; aborts the parse at the first limit crossed, and
    /// at the first callback after an error.
    private final class TreeBuilder: NSObject, XMLParserDelegate {
        let limits: Limits
        var stack: [XMLNode] = []
        var root: XMLNode?
        var count = 0
        var refusal: XMLRefused?
        /// Set by the first error libxml2 reports. The parse stops at the next callback, not in
        /// the error's: libxml2 stopped from inside its error reporting reads freed input (a
        /// null dereference on an unsupported encoding, found by the s3-xml target); left to go
        /// on, it reports more errors, and FoundationXML leaks a string for each.
        var failed = false

        init(limits: Limits) { self.limits = limits }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            failed = true
        }

        /// True, having stopped the parse, after an error.
        private func stopped(_ parser: XMLParser) -> Bool {
            if failed { parser.abortParsing() }
            return failed
        }

        func parser(_ parser: XMLParser, foundComment comment: String) {
            _ = stopped(parser)
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            _ = stopped(parser)
        }

        func parser(_ parser: XMLParser, foundProcessingInstructionWithTarget target: String, data: String?) {
            _ = stopped(parser)
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            guard !stopped(parser) else { return }
            count += 1
            guard count <= limits.elements else { return refuse(parser, "the XML answer has more than \(limits.elements) elements") }
            guard stack.count < limits.depth else { return refuse(parser, "the XML answer is nested deeper than \(limits.depth)") }
            guard root == nil else { return refuse(parser, "the XML answer has more than one root element") }
            let local = name.split(separator: ":").last.map(String.init) ?? name
            stack.append(XMLNode(name: local, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stopped(parser), !stack.isEmpty else { return }
            guard stack[stack.count - 1].text.utf8.count + string.utf8.count <= limits.textBytes else {
                return refuse(parser, "an XML element's text exceeds \(limits.textBytes) bytes")
            }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard !stopped(parser), let node = stack.popLast() else { return }
            if stack.isEmpty {
                root = node
            } else {
                stack[stack.count - 1].children.append(node)
            }
        }

        private func refuse(_ parser: XMLParser, _ problem: String) {
            if refusal == nil { refusal = XMLRefused(problem: problem) }
            parser.abortParsing()
        }
    }
}
