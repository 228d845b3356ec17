// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The dependency direction of DESIGN.md section 1: fhir/ and sync/ meet only in src/ (the store) and src/app.ts;
 * mcp/ (issue 13) is imported by src/app.ts and src/main.ts only, never imports sync/, and of fhir/ only the handler
 * entry (fhir/fhir-request.ts).
 */
const layerRule = (/** @type {string[]} */ forbidden, /** @type {object[]} */ morePatterns = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: forbidden
        .map((dir) => ({
          // src/connectors/fhir/ (the FHIR-speaking connector) is not the facade: only its own paths are let through.
          group: [
            `**/${dir}/**`,
            `../${dir}/*`,
            `../../${dir}/*`,
            '!./fhir/fhir-connector.js',
            '!**/connectors/fhir/*',
          ],
          message: `This folder may not import from ${dir}/ (DESIGN.md section 1).`,
        }))
        .concat(morePatterns),
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', 'fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/app.ts', 'src/main.ts'],
    rules: layerRule(['fhir', 'sync', 'mcp']),
  },
  { files: ['fhir/**/*.ts'], rules: layerRule(['sync', 'mcp']) },
  { files: ['sync/**/*.ts'], rules: layerRule(['fhir', 'mcp']) },
  // The agent interface (issue 13) calls the facade's handler entry and src/ services, never the sync engine.
  {
    files: ['mcp/**/*.ts'],
    rules: layerRule(
      ['sync'],
      [
        {
          group: ['../fhir/*', '../../fhir/*', '!../fhir/fhir-request.js', '!../../fhir/fhir-request.js'],
          message:
            'Of fhir/, mcp/ may import the handler entry fhir/fhir-request.ts only (DESIGN.md section 1).',
        },
      ],
    ),
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
