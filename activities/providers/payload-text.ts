/** A webhook field that is kept or looked up in Postgres: one with a NUL or a lone surrogate is not the provider's (400, never a 500). */
import { z } from 'zod';
import { findUnstorableText } from '../../domain/text.js';

export const storableString = () => z.string().refine((s) => findUnstorableText(s) === undefined, 'must not contain a NUL or a lone surrogate');
