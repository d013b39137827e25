// The inspector's section of the saved UI state (persist.ts): the panel and its zoom both read and patch it.
import { setUi, ui, type UiState } from '../persist.js';

/** The inspector's section of the saved UI state, with the zoom per machine and `follow` kept beside the two typed fields. */
type InspectorUi = UiState['inspector'] & { zoom?: Record<string, number>; follow?: boolean };
export const inspectorUi = (): InspectorUi => ui().inspector as InspectorUi;
export const saveInspectorUi = (patch: Partial<InspectorUi>) => setUi('inspector', { ...inspectorUi(), ...patch } as UiState['inspector']);
