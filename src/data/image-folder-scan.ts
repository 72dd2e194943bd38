import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { err, ok, type Result } from '../result.js';

/**
 * The layout of an image folder (Imagenette, Tiny ImageNet, any ImageNet subset):
 *
 *   <root>/train/<class>/**.{png,jpg,jpeg}   one folder per class; images at any depth below it
 *   <root>/val/<class>/**.{png,jpg,jpeg}     the same classes (a subset of them is fine), or
 *   <root>/val/val_annotations.txt           Tiny ImageNet's flat validation set: `<file>\t<class>…` lines
 *                                           naming images in <root>/val/images/
 *
 * Classes are train/'s subfolders in code-point order of their names (n01440764 … for ImageNet's WordNet ids).
 * Names starting with a dot are skipped, as are files of other types (Tiny ImageNet's *_boxes.txt).
 */

/** Extensions taken as images (any case). */
export const IMAGE_FILE = /\.(png|jpe?g)$/i;
const ANNOTATIONS = 'val_annotations.txt';
/** Labels are stored in 16 bits. */
const MAX_CLASSES = 65_536;

export interface ImageFile {
  readonly path: string;
  /** Relative to the root, with '/' separators: what the cache key covers. */
  readonly rel: string;
  readonly label: number;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface FolderListing {
  readonly root: string;
  readonly classes: readonly string[];
  /** Interleaved by class (the first image of every class, then the second, …), so any prefix is balanced. */
  readonly train: readonly ImageFile[];
  readonly val: readonly ImageFile[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

function listDir(dir: string): Result<Dirent[], string> {
  try {
    return ok(readdirSync(dir, { withFileTypes: true }).filter((d) => !d.name.startsWith('.')));
  } catch (e) {
    const c = code(e);
    return err(c === 'ENOENT' ? `image folder ${dir} does not exist` : c === 'ENOTDIR' ? `${dir} is not a folder` : `cannot read folder ${dir} (${c})`);
  }
}

/** Whether a directory entry is a folder, following symbolic links. */
function isDir(parent: string, d: Dirent): boolean {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  try {
    return statSync(join(parent, d.name)).isDirectory();
  } catch {
    return false;
  }
}

function imageFile(root: string, path: string, label: number): Result<ImageFile, string> {
  try {
    const s = statSync(path);
    if (!s.isFile()) return err(`image ${path} is not a regular file`);
    return ok({ path, rel: relative(root, path).split(sep).join('/'), label, bytes: s.size, mtimeMs: s.mtimeMs });
  } catch (e) {
    return err(`cannot read image ${path} (${code(e)})`);
  }
}

/** Every image below `dir`, at any depth, in code-point order of their paths. */
function imagesBelow(root: string, dir: string, label: number, out: ImageFile[]): Result<void, string> {
  const entries = listDir(dir);
  if (!entries.ok) return entries;
  for (const d of entries.value.sort((a, b) => byCodePoint(a.name, b.name))) {
    const path = join(dir, d.name);
    if (isDir(dir, d)) {
      const below = imagesBelow(root, path, label, out);
      if (!below.ok) return below;
    } else if (IMAGE_FILE.test(d.name)) {
      const file = imageFile(root, path, label);
      if (!file.ok) return file;
      out.push(file.value);
    }
  }
  return ok(undefined);
}

/** One list per class, each in order, merged round-robin. */
function interleave(perClass: ImageFile[][]): ImageFile[] {
  const out: ImageFile[] = [];
  const longest = Math.max(0, ...perClass.map((l) => l.length));
  for (let r = 0; r < longest; r++) for (const list of perClass) if (r < list.length) out.push(list[r]);
  return out;
}

function classFolders(split: string): Result<string[], string> {
  const entries = listDir(split);
  if (!entries.ok) return entries;
  return ok(entries.value.filter((d) => isDir(split, d)).map((d) => d.name).sort(byCodePoint));
}

/** The class folders of a split, each of which must hold images and (for val) be a class of train. */
function scanClassFolders(root: string, split: string, index: Map<string, number>, classCount: number): Result<ImageFile[], string> {
  const folders = classFolders(split);
  if (!folders.ok) return folders;
  const perClass: ImageFile[][] = Array.from({ length: classCount }, () => []);
  for (const name of folders.value) {
    const label = index.get(name);
    if (label === undefined) return err(`class folder ${join(split, name)} is not a class of ${join(root, 'train')}`);
    const files: ImageFile[] = [];
    const scanned = imagesBelow(root, join(split, name), label, files);
    if (!scanned.ok) return scanned;
    if (files.length === 0) return err(`class folder ${join(split, name)} has no PNG or JPEG images`);
    perClass[label] = files;
  }
  return ok(interleave(perClass));
}

/** Tiny ImageNet's val/: images in val/images/, their classes in val_annotations.txt. */
function scanAnnotated(root: string, split: string, index: Map<string, number>, classCount: number): Result<ImageFile[], string> {
  const path = join(split, ANNOTATIONS);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(`cannot read ${path} (${code(e)})`);
  }
  const perClass: ImageFile[][] = Array.from({ length: classCount }, () => []);
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const [name, cls] = lines[i].split('\t');
    const where = `${path} line ${i + 1}`;
    if (cls === undefined || name === '' || name.includes('/') || name.includes('\\')) return err(`${where}: expected <image file>\\t<class>, got ${JSON.stringify(lines[i])}`);
    const label = index.get(cls);
    if (label === undefined) return err(`${where}: class ${JSON.stringify(cls)} is not a class of ${join(root, 'train')}`);
    if (!IMAGE_FILE.test(name)) return err(`${where}: ${name} is not a PNG or JPEG file name`);
    const file = imageFile(root, join(split, 'images', name), label);
    if (!file.ok) return err(`${where}: ${file.error}`);
    perClass[label].push(file.value);
  }
  for (const list of perClass) list.sort((a, b) => byCodePoint(a.rel, b.rel));
  return ok(interleave(perClass));
}

function hasAnnotations(split: string): boolean {
  try {
    return statSync(join(split, ANNOTATIONS)).isFile();
  } catch {
    return false;
  }
}

/** The class names of `root`/train, cheaply (no image is looked at): what `describe` needs. */
export function imageFolderClasses(root: string): Result<string[], string> {
  const train = join(root, 'train');
  const rootEntries = listDir(root);
  if (!rootEntries.ok) return rootEntries;
  const classes = classFolders(train);
  if (!classes.ok) return err(`${classes.error}; an image folder holds train/ and val/, with one subfolder per class in each`);
  if (classes.value.length === 0) return err(`no class folders in ${train}; an image folder holds train/<class>/ and val/<class>/ subfolders of PNG/JPEG files`);
  if (classes.value.length > MAX_CLASSES) return err(`${train} has ${classes.value.length} class folders, more than ${MAX_CLASSES}`);
  return classes;
}

/** Lists every image of both splits with its class; nothing is decoded. */
export function scanImageFolder(root: string): Result<FolderListing, string> {
  const classes = imageFolderClasses(root);
  if (!classes.ok) return classes;
  const index = new Map(classes.value.map((name, i) => [name, i]));
  const train = scanClassFolders(root, join(root, 'train'), index, classes.value.length);
  if (!train.ok) return train;
  const valDir = join(root, 'val');
  const val = hasAnnotations(valDir) ? scanAnnotated(root, valDir, index, classes.value.length) : scanClassFolders(root, valDir, index, classes.value.length);
  if (!val.ok) return val;
  if (val.value.length === 0) return err(`no validation images in ${valDir}; it needs class subfolders like train/ (or Tiny ImageNet's val_annotations.txt)`);
  return ok({ root, classes: classes.value, train: train.value, val: val.value });
}
