/* Test-only stand-in for bcryptprimitives.dll, which wine 8 lacks and Rust's std
   imports for ProcessPrng (its random source). Built beside ccenv.exe by
   tests/windows.rs; never shipped. Fills the buffer with RtlGenRandom (advapi32). */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
