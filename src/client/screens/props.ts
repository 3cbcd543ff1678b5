import type { UiState } from "../model/input.js";
import type { ClientState } from "../model/store.js";
import type { Progress } from "../model/progress.js";

/** What every screen renders from: the server's picture, the UI's, the terminal size. */
export interface ScreenProps {
  s: ClientState;
  ui: UiState;
  cols: number;
  rows: number;
  progress: Progress;
}
