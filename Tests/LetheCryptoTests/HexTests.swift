import LetheCrypto
import Testing

@Suite("Hex")
struct HexTests {
    @Test("encode writes lower-case hex, two digits a byte")
    func encodesLowerCase() {
        #expect(Hex.encode([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]) == "00017f80abff")
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test("every byte value round-trips through encode and decode")
    func roundTripsAllBytes() {
        let all = (0...255).map(UInt8.init)
        let text = Hex.encode(all)
        #expect(text.count == 512)
        #expect(Hex.decode(text) == all)
    }

    @Test("decode accepts upper and mixed case")
    func decodesAnyCase() {
        #expect(Hex.decode("ABCDEF") == [0xab, 0xcd, 0xef])
        #expect(Hex.decode("aBcDeF") == [0xab, 0xcd, 0xef])
    }

    @Test("decode of the empty string is no bytes")
    func decodesEmpty() {
        #expect(Hex.decode("") == [])
    }

    @Test("decode refuses an odd number of digits", arguments: ["0", "abc", "00112"])
    func refusesOddLength(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test("decode refuses characters that are not hex digits", arguments: ["zz", "0g", "g0", "12 4", "0x12", "-1", "éé", "12\n"])
    func refusesNonHex(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test("decode works on a substring")
    func decodesSubstring() {
        let text = "SHA256:cafe"
        #expect(Hex.decode(text.dropFirst(7)) == [0xca, 0xfe])
    }
}
