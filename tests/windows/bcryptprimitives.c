/* Test harness only, never shipped: Wine 8 has no bcryptprimitives.dll, whose ProcessPrng
 * Rust's standard library calls for random numbers since 1.78. scripts/test-windows.sh builds
 * this stub with mingw and puts it beside the test executables it runs under Wine. Real
 * Windows has the DLL, and Wharf's Windows builds never include this file.
 * ProcessPrng is served by advapi32's SystemFunction036 (RtlGenRandom), in chunks because
 * that takes a ULONG length. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
