// esbuild bundles imported stylesheets into app.css; for TypeScript they are side-effect imports.
declare module '*.css';
