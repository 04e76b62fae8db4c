namespace NativeKv.Server.Protocol;

/// <summary>
/// Redis 7.2's fpconv_dtoa (deps/fpconv, Florian Loitsch's Grisu2 as fpconv has it): the digits and
/// decimal exponent d2string prints a non-integral double with. Grisu2 always reads back as the same
/// double but is not always the shortest such text, so this is ported rather than taken from .NET's
/// shortest "R" formatting. The layout of the digits is <see cref="RespWriter.FormatDouble"/>'s.
/// </summary>
internal static class Fpconv
{
    private const ulong FracMask = 0x000FFFFFFFFFFFFFUL;
    private const ulong ExpMask = 0x7FF0000000000000UL;
    private const ulong HiddenBit = 0x0010000000000000UL;
    private const int ExpBias = 1023 + 52;
    private const int FirstPower = -348, StepPowers = 8, ExpMax = -32, ExpMin = -60, NPowers = 87;

    private static readonly ulong[] Tens =
    [
        10000000000000000000UL, 1000000000000000000UL, 100000000000000000UL, 10000000000000000UL,
        1000000000000000UL, 100000000000000UL, 10000000000000UL, 1000000000000UL, 100000000000UL,
        10000000000UL, 1000000000UL, 100000000UL, 10000000UL, 1000000UL, 100000UL, 10000UL, 1000UL, 100UL, 10UL, 1UL,
    ];

    private static readonly (ulong Frac, int Exp)[] PowersTen =
    [
        (18054884314459144840UL,  -1220), (13451937075301367670UL,  -1193), (10022474136428063862UL,  -1166),
        (14934650266808366570UL,  -1140), (11127181549972568877UL,  -1113), (16580792590934885855UL,  -1087),
        (12353653155963782858UL,  -1060), (18408377700990114895UL,  -1034), (13715310171984221708UL,  -1007),
        (10218702384817765436UL,  -980), (15227053142812498563UL,  -954), (11345038669416679861UL,  -927),
        (16905424996341287883UL,  -901), (12595523146049147757UL,  -874), (9384396036005875287UL,  -847),
        (13983839803942852151UL,  -821), (10418772551374772303UL,  -794), (15525180923007089351UL,  -768),
        (11567161174868858868UL,  -741), (17236413322193710309UL,  -715), (12842128665889583758UL,  -688),
        (9568131466127621947UL,  -661), (14257626930069360058UL,  -635), (10622759856335341974UL,  -608),
        (15829145694278690180UL,  -582), (11793632577567316726UL,  -555), (17573882009934360870UL,  -529),
        (13093562431584567480UL,  -502), (9755464219737475723UL,  -475), (14536774485912137811UL,  -449),
        (10830740992659433045UL,  -422), (16139061738043178685UL,  -396), (12024538023802026127UL,  -369),
        (17917957937422433684UL,  -343), (13349918974505688015UL,  -316), (9946464728195732843UL,  -289),
        (14821387422376473014UL,  -263), (11042794154864902060UL,  -236), (16455045573212060422UL,  -210),
        (12259964326927110867UL,  -183), (18268770466636286478UL,  -157), (13611294676837538539UL,  -130),
        (10141204801825835212UL,  -103), (15111572745182864684UL,  -77), (11258999068426240000UL,  -50),
        (16777216000000000000UL,  -24), (12500000000000000000UL,  3), (9313225746154785156UL,  30),
        (13877787807814456755UL,  56), (10339757656912845936UL,  83), (15407439555097886824UL,  109),
        (11479437019748901445UL,  136), (17105694144590052135UL,  162), (12744735289059618216UL,  189),
        (9495567745759798747UL,  216), (14149498560666738074UL,  242), (10542197943230523224UL,  269),
        (15709099088952724970UL,  295), (11704190886730495818UL,  322), (17440603504673385349UL,  348),
        (12994262207056124023UL,  375), (9681479787123295682UL,  402), (14426529090290212157UL,  428),
        (10748601772107342003UL,  455), (16016664761464807395UL,  481), (11933345169920330789UL,  508),
        (17782069995880619868UL,  534), (13248674568444952270UL,  561), (9871031767461413346UL,  588),
        (14708983551653345445UL,  614), (10959046745042015199UL,  641), (16330252207878254650UL,  667),
        (12166986024289022870UL,  694), (18130221999122236476UL,  720), (13508068024458167312UL,  747),
        (10064294952495520794UL,  774), (14996968138956309548UL,  800), (11173611982879273257UL,  827),
        (16649979327439178909UL,  853), (12405201291620119593UL,  880), (9242595204427927429UL,  907),
        (13772540099066387757UL,  933), (10261342003245940623UL,  960), (15290591125556738113UL,  986),
        (11392378155556871081UL,  1013), (16975966327722178521UL,  1039), (12648080533535911531UL,  1066),
    ];

    private struct Fp(ulong frac, int exp)
    {
        public ulong Frac = frac;
        public int Exp = exp;
    }

    private static Fp BuildFp(double d)
    {
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(d);
        var fp = new Fp(bits & FracMask, (int)((bits & ExpMask) >> 52));
        if (fp.Exp != 0)
        {
            fp.Frac += HiddenBit;
            fp.Exp -= ExpBias;
        }
        else fp.Exp = -ExpBias + 1;
        return fp;
    }

    private static void Normalize(ref Fp fp)
    {
        while ((fp.Frac & HiddenBit) == 0)
        {
            fp.Frac <<= 1;
            fp.Exp--;
        }
        const int shift = 64 - 52 - 1;
        fp.Frac <<= shift;
        fp.Exp -= shift;
    }

    private static void NormalizedBoundaries(in Fp fp, out Fp lower, out Fp upper)
    {
        upper = new Fp((fp.Frac << 1) + 1, fp.Exp - 1);
        while ((upper.Frac & (HiddenBit << 1)) == 0)
        {
            upper.Frac <<= 1;
            upper.Exp--;
        }
        const int uShift = 64 - 52 - 2;
        upper.Frac <<= uShift;
        upper.Exp -= uShift;
        int lShift = fp.Frac == HiddenBit ? 2 : 1;
        lower = new Fp((fp.Frac << lShift) - 1, fp.Exp - lShift);
        lower.Frac <<= lower.Exp - upper.Exp;
        lower.Exp = upper.Exp;
    }

    private static Fp Multiply(in Fp a, in Fp b)
    {
        const ulong lomask = 0x00000000FFFFFFFFUL;
        ulong ahBl = (a.Frac >> 32) * (b.Frac & lomask);
        ulong alBh = (a.Frac & lomask) * (b.Frac >> 32);
        ulong alBl = (a.Frac & lomask) * (b.Frac & lomask);
        ulong ahBh = (a.Frac >> 32) * (b.Frac >> 32);
        ulong tmp = (ahBl & lomask) + (alBh & lomask) + (alBl >> 32);
        tmp += 1UL << 31; // round up
        return new Fp(ahBh + (ahBl >> 32) + (alBh >> 32) + (tmp >> 32), a.Exp + b.Exp + 64);
    }

    private static Fp CachedPow10(int exp, out int k)
    {
        const double oneLogTen = 0.30102999566398114;
        int approx = (int)(-(exp + NPowers) * oneLogTen);
        int idx = (approx - FirstPower) / StepPowers;
        while (true)
        {
            int current = exp + PowersTen[idx].Exp + 64;
            if (current < ExpMin) { idx++; continue; }
            if (current > ExpMax) { idx--; continue; }
            k = FirstPower + idx * StepPowers;
            return new Fp(PowersTen[idx].Frac, PowersTen[idx].Exp);
        }
    }

    private static void RoundDigit(Span<byte> digits, int ndigits, ulong delta, ulong rem, ulong kappa, ulong frac)
    {
        while (rem < frac && delta - rem >= kappa && (rem + kappa < frac || frac - rem > rem + kappa - frac))
        {
            digits[ndigits - 1]--;
            rem += kappa;
        }
    }

    private static int GenerateDigits(in Fp fp, in Fp upper, in Fp lower, Span<byte> digits, ref int K)
    {
        ulong wfrac = upper.Frac - fp.Frac;
        ulong delta = upper.Frac - lower.Frac;
        int shift = -upper.Exp;
        ulong oneFrac = 1UL << shift;
        ulong part1 = upper.Frac >> shift;
        ulong part2 = upper.Frac & (oneFrac - 1);
        int idx = 0, kappa = 10;
        for (int divp = 10; kappa > 0; divp++)
        {
            ulong div = Tens[divp];
            uint digit = (uint)(part1 / div);
            if (digit != 0 || idx != 0) digits[idx++] = (byte)(digit + '0');
            part1 -= digit * div;
            kappa--;
            ulong tmp = (part1 << shift) + part2;
            if (tmp <= delta)
            {
                K += kappa;
                RoundDigit(digits, idx, delta, tmp, div << shift, wfrac);
                return idx;
            }
        }
        int unit = 18;
        while (true)
        {
            part2 *= 10;
            delta *= 10;
            kappa--;
            uint digit = (uint)(part2 >> shift);
            if (digit != 0 || idx != 0) digits[idx++] = (byte)(digit + '0');
            part2 &= oneFrac - 1;
            if (part2 < delta)
            {
                K += kappa;
                RoundDigit(digits, idx, delta, part2, oneFrac, wfrac * Tens[unit]);
                return idx;
            }
            unit--;
        }
    }

    /// <summary>grisu2: the digits (at most 18) of a finite non-zero |d|, and K with |d| ~ digits * 10^K.</summary>
    public static int Grisu2(double d, Span<byte> digits, out int K)
    {
        var w = BuildFp(d);
        NormalizedBoundaries(w, out var lower, out var upper);
        Normalize(ref w);
        var cp = CachedPow10(upper.Exp, out int k);
        w = Multiply(w, cp);
        upper = Multiply(upper, cp);
        lower = Multiply(lower, cp);
        lower.Frac++;
        upper.Frac--;
        K = -k;
        return GenerateDigits(w, upper, lower, digits, ref K);
    }
}
