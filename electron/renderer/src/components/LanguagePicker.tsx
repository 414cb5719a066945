import { t, type Language } from '../i18n.js';

export function LanguagePicker({ lang, onLanguage }: { lang: Language; onLanguage: (l: Language) => void }) {
  return (
    <label class="field inline">
      <span class="label">{t('language')}</span>
      <select value={lang} onChange={(e) => onLanguage(e.currentTarget.value as Language)}>
        <option value="en" lang="en">
          English
        </option>
        <option value="ja" lang="ja">
          日本語
        </option>
      </select>
    </label>
  );
}
