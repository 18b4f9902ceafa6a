/* Test harness only, never shipped: `ctrl-c.exe PID` presses Ctrl-C in the console of
 * process PID, as a user at that console would, and exits 0 if the event was sent.
 *
 * Windows has no kill(2): a console process is stopped gracefully by a console control event,
 * and GenerateConsoleCtrlEvent sends one to every process on the caller's console. So this
 * helper leaves its own console, attaches to PID's, ignores the event itself and sends it.
 * PID must have a console of its own (the tests start `wharf serve` with CREATE_NO_WINDOW),
 * or the test that started it would receive the Ctrl-C too. Rust code cannot make these calls
 * (the workspace forbids unsafe code), hence C; scripts/test-windows.sh builds it with mingw
 * and puts it beside the test executables. Works on Windows and under Wine 8. */
#include <windows.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  DWORD pid = strtoul(argv[1], NULL, 10);
  FreeConsole();
  if (!AttachConsole(pid)) return 1;
  SetConsoleCtrlHandler(NULL, TRUE);
  return GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) ? 0 : 1;
}
