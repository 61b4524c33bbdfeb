import PrimarySizing
import Testing

@Suite("Primary particle size results")
struct PrimaryParticleSizeTests {
    @Test("checked keeps positive finite diameters and rejects the rest")
    func checked() {
        #expect(PrimaryParticleSize.checked(21.5, particleCount: 3).diameterNm == 21.5)
        #expect(PrimaryParticleSize.checked(.nan) == .notDetermined(.fitFailed))
        #expect(PrimaryParticleSize.checked(-1) == .notDetermined(.fitFailed))
        #expect(PrimaryParticleSize.notDetermined(.missingPixelSize).diameterNm == nil)
    }
}
