/**
 * A windowed list: only the rows in view (plus a few) are in the DOM, so ten
 * thousand prompts scroll as fast as ten. Rows have a fixed height.
 *
 * Keyboard: the list is one tab stop (a listbox); arrows, Page Up/Down, Home
 * and End move the selection, Enter opens the selected row.
 */
import * as React from 'react';

export interface IVirtualListProps {
  itemCount: number;
  rowHeight: number;
  /** Render row `index`; the list positions it. */
  renderRow: (index: number) => React.ReactNode;
  /** A stable DOM id prefix for the rows (for aria-activedescendant). */
  idPrefix: string;
  selectedIndex: number;
  onSelect: (index: number) => void;
  onActivate: (index: number) => void;
  /** Called when the last rendered row is within `threshold` rows of the end. */
  onNearEnd?: () => void;
  threshold?: number;
  overscan?: number;
  ariaLabel: string;
  className?: string;
}

export function VirtualList(props: IVirtualListProps): JSX.Element {
  const {
    itemCount,
    rowHeight,
    renderRow,
    idPrefix,
    selectedIndex,
    onSelect,
    onActivate,
    onNearEnd,
    threshold = 20,
    overscan = 6,
    ariaLabel
  } = props;
  const ref = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [height, setHeight] = React.useState(400);

  React.useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const update = () => setHeight(node.clientHeight || 400);
    update();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(update);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(
    itemCount - 1,
    Math.ceil((scrollTop + height) / rowHeight) + overscan
  );

  React.useEffect(() => {
    if (onNearEnd && itemCount > 0 && last >= itemCount - 1 - threshold) {
      onNearEnd();
    }
  }, [last, itemCount, onNearEnd, threshold]);

  const scrollIntoView = (index: number) => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const top = index * rowHeight;
    if (top < node.scrollTop) {
      node.scrollTop = top;
    } else if (top + rowHeight > node.scrollTop + node.clientHeight) {
      node.scrollTop = top + rowHeight - node.clientHeight;
    }
  };

  const move = (index: number) => {
    if (itemCount === 0) {
      return;
    }
    const next = Math.max(0, Math.min(itemCount - 1, index));
    onSelect(next);
    scrollIntoView(next);
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const current = selectedIndex < 0 ? -1 : selectedIndex;
    switch (event.key) {
      case 'ArrowDown':
        move(current + 1);
        break;
      case 'ArrowUp':
        move(current - 1);
        break;
      case 'PageDown':
        move(current + page);
        break;
      case 'PageUp':
        move(current - page);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(itemCount - 1);
        break;
      case 'Enter':
      case ' ':
        if (selectedIndex >= 0 && selectedIndex < itemCount) {
          onActivate(selectedIndex);
        }
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };

  const rows: JSX.Element[] = [];
  for (let index = first; index <= last; index++) {
    rows.push(
      <div
        key={index}
        id={`${idPrefix}-${index}`}
        role="option"
        aria-selected={index === selectedIndex}
        aria-posinset={index + 1}
        aria-setsize={itemCount}
        className={
          'jp-llmlab-VirtualList-row' +
          (index === selectedIndex ? ' jp-mod-selected' : '')
        }
        style={{ top: index * rowHeight, height: rowHeight }}
        onClick={() => {
          onSelect(index);
          onActivate(index);
        }}
      >
        {renderRow(index)}
      </div>
    );
  }

  return (
    <div
      ref={ref}
      className={'jp-llmlab-VirtualList ' + (props.className ?? '')}
      role="listbox"
      aria-label={ariaLabel}
      tabIndex={0}
      aria-activedescendant={
        selectedIndex >= 0 && selectedIndex < itemCount
          ? `${idPrefix}-${selectedIndex}`
          : undefined
      }
      onKeyDown={onKeyDown}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div
        className="jp-llmlab-VirtualList-spacer"
        style={{ height: itemCount * rowHeight }}
      >
        {rows}
      </div>
    </div>
  );
}
